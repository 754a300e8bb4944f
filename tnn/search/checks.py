"""Validation of a `SearchSpace`: each problem in one message with its fix.

Checked: empty choices; bad widths, kernel sizes, steps; unknown cells
and cell choices; edges whose endpoints are not nodes, "feedback" edges
that go forward, "skip" edges that go backward, duplicates; contradictory
settings: a cell choice none of whose hyperparameter combinations builds
the cell, a choice value that never builds, no valid `(times,
image_off)` pair, steps too few for the image to reach the readout, and
a budget with `min_params > max_params`. A budget no sample can meet
needs the model's input shape and is checked by
`tnn.search.sample.check_budget`.
"""

from tnn.search import space as space_lib
from tnn.search.space import NONE, READOUTS, SearchSpaceError


def _positive_ints(values, what, allow_none=False):
    if not values:
        raise SearchSpaceError(f"{what}: no choices; give at least one.")
    for v in values:
        if v is None and allow_none:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise SearchSpaceError(
                f"{what}: choices must be positive ints"
                f"{' or None' if allow_none else ''}, got {v!r} in "
                f"{tuple(values)!r}.")
    if len(set(values)) != len(values):
        raise SearchSpaceError(f"{what}: duplicate choices in "
                               f"{tuple(values)!r}.")


def check_space(space):
    if not space.nodes:
        raise SearchSpaceError("The search space has no nodes; give at "
                               "least one NodeChoices.")
    names = space.node_names
    for node in space.nodes:
        _check_node(node, space)
    if len(set(names)) != len(names) or "readout" in names:
        raise SearchSpaceError(f"Node names must be unique and not "
                               f"'readout' (the readout node), got {names}.")
    if not space.cells:
        raise SearchSpaceError("The search space has no cell choices; "
                               "give e.g. tnn.search.STANDARD_CELLS.")
    for key, choice in space.cells.items():
        _check_cell_choice(key, choice, min(n.widths[0] for n in
                                            space.nodes))
    _check_edges(space)
    _check_presentation(space)
    if space.readout not in READOUTS:
        raise SearchSpaceError(f"readout must be one of {READOUTS}, got "
                               f"{space.readout!r}.")
    _check_budget_values(space)


def _check_node(node, space):
    if not space_lib.valid_name(node.name):
        raise SearchSpaceError(f"Bad node name {node.name!r}: use letters, "
                               f"digits, '_', '-', '.'.")
    what = f"Node {node.name!r}"
    _positive_ints(list(node.widths), f"{what} widths")
    _positive_ints(list(node.kernel_sizes), f"{what} kernel_sizes")
    _positive_ints([node.strides], f"{what} strides")
    if not node.cells:
        raise SearchSpaceError(f"{what} has no cell choices; give at least "
                               f"one (\"{NONE}\" for a plain conv node).")
    unknown = [c for c in node.cells if c not in space.cells]
    if unknown:
        raise SearchSpaceError(
            f"{what} names cell choices {unknown} that the space does not "
            f"define; defined: {sorted(space.cells)}.")


def _check_cell_choice(key, choice, width):
    cls = space_lib.cell_class(choice, key)
    for name in choice.params:
        options = choice.options(name)
        if not options:
            raise SearchSpaceError(f"Cell choice {key!r}: hyperparameter "
                                   f"{name!r} has no choices.")
        values = choice.params[name]
        if isinstance(values, dict):
            bad = [o for o, kw in values.items() if not isinstance(kw, dict)
                   or not isinstance(o, str)]
            if bad:
                raise SearchSpaceError(
                    f"Cell choice {key!r}: switch {name!r} maps option "
                    f"names to argument dicts; bad options {bad}.")
        for v in options:
            if not (v is None or isinstance(v, (bool, int, float, str))):
                raise SearchSpaceError(
                    f"Cell choice {key!r}: {name}={v!r} is not a None, "
                    f"bool, int, float or str choice.")
    if cls is None:
        if choice.params:
            raise SearchSpaceError(f"Cell choice {key!r} has no cell but "
                                   f"hyperparameters {sorted(choice.params)}.")
        return
    combos = space_lib.combinations(choice)
    errors, works = {}, []
    for combo in combos:
        try:
            cls(**choice.kwargs(width, combo, 1e-4))
        except (ValueError, TypeError) as err:
            errors[tuple(sorted(combo.items()))] = err
        else:
            works.append(combo)
    if not works:
        first = next(iter(errors.values()))
        raise SearchSpaceError(
            f"Contradictory cell choice {key!r}: none of its "
            f"{len(combos)} hyperparameter combinations builds a "
            f"{choice.cell} (e.g. {_one_line(first)}); change its fixed "
            f"settings or ranges.")
    for name in choice.params:
        for value in choice.options(name):
            if not any(c[name] == value for c in works):
                raise SearchSpaceError(
                    f"Cell choice {key!r}: {name}={value!r} never builds a "
                    f"{choice.cell} with the other settings; remove it.")


def _check_edges(space):
    index = {n: i for i, n in enumerate(space.node_names)}
    index["readout"] = len(space.nodes)
    seen = set()
    for kind in ("feedback", "skips"):
        for edge in getattr(space, kind):
            if len(edge) != 2:
                raise SearchSpaceError(f"A {kind} edge must be a (source, "
                                       f"target) pair, got {edge!r}.")
            src, dst = edge
            for end in edge:
                if end not in index:
                    raise SearchSpaceError(
                        f"{kind} edge {edge!r}: {end!r} is not a node; "
                        f"nodes are {list(index)}.")
            if edge in seen:
                raise SearchSpaceError(f"Edge {edge!r} is listed twice.")
            seen.add(edge)
            if kind == "feedback" and index[src] <= index[dst]:
                raise SearchSpaceError(
                    f"Feedback edge {edge!r} does not go from a later to an "
                    f"earlier node (order: {list(index)}); list forward "
                    f"edges under skips, and a node's own recurrence is "
                    f"its cell.")
            if kind == "skips" and index[dst] - index[src] < 2:
                raise SearchSpaceError(
                    f"Skip edge {edge!r} must go forward past at least one "
                    f"node (order: {list(index)}); adjacent nodes are "
                    f"connected already, backward edges are feedback.")


def _check_presentation(space):
    _positive_ints(list(space.times), "times")
    _positive_ints(list(space.image_off), "image_off", allow_none=True)
    if not space.presentations():
        raise SearchSpaceError(
            f"Contradictory presentation: every image_off in "
            f"{space.image_off} is >= every times in {space.times}, so the "
            f"image is never turned off; add None (image throughout) or a "
            f"smaller image_off.")
    depth = len(space.nodes)
    short = [t for t in space.times if t <= depth]
    if short:
        raise SearchSpaceError(
            f"times {short} too few: the image reaches the readout after "
            f"{depth} steps ({depth} nodes, one step per edge); use times "
            f"> {depth}.")


def _check_budget_values(space):
    for name in ("min_params", "max_params"):
        value = getattr(space, name)
        if value is not None and (isinstance(value, bool) or not isinstance(
                value, int) or value < 1):
            raise SearchSpaceError(f"{name} must be a positive int or None, "
                                   f"got {value!r}.")
    if (space.min_params is not None and space.max_params is not None
            and space.min_params > space.max_params):
        raise SearchSpaceError(
            f"Contradictory budget: min_params {space.min_params:,} > "
            f"max_params {space.max_params:,}.")


def _one_line(err):
    return " ".join(str(err).split())
