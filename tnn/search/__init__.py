"""Architecture search spaces as data; every sample is a `GraphSpec`.

    from tnn.search import demo_space, sample_spec, RandomSuggest
    space = demo_space()
    sample = sample_spec(space, RandomSuggest(0), (32, 32, 1), 10)
    model = sample.build()

`training.search` runs a study over a space with Optuna.
"""

from tnn.search.model import searched_model
from tnn.search.presets import (ALL_CELLS, STANDARD_CELLS, demo_space,
                                shallow_space)
from tnn.search.sample import (BudgetError, FixedSuggest, RandomSuggest,
                               Sample, SampleRejected, check_budget,
                               count_params, param_range, sample_spec)
from tnn.search.space import (NONE, CellChoice, NodeChoices, SearchSpace,
                              SearchSpaceError)

__all__ = ["ALL_CELLS", "BudgetError", "CellChoice", "FixedSuggest", "NONE",
           "NodeChoices", "RandomSuggest", "Sample", "SampleRejected",
           "SearchSpace", "SearchSpaceError", "STANDARD_CELLS",
           "check_budget", "count_params", "demo_space", "param_range",
           "sample_spec", "searched_model", "shallow_space"]
