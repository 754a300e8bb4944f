# Quick start: `make demo` and `make test` each create .venv and install tnn.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo neural-demo test test-wheel test-execution-modes bench clean

$(STAMP): setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[cpu,test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m training.demo

# Synthetic V4/IT recordings from a known ConvRNN "brain", then the layer
# sweep, ceilings and the direct fit of recurrent dynamics (issue #4).
neural-demo: $(STAMP)
	$(PY) -m training.make_synthetic_ventral --out runs/neural_demo/synthetic_ventral.npz
	$(PY) -m training.fit_neural --data runs/neural_demo/synthetic_ventral.npz \
		--gin_files runs/neural_demo/synthetic_ventral.gin \
		--truth runs/neural_demo/synthetic_ventral.truth.json \
		--fit_dynamics --base_dir runs/neural_demo/fit

test: $(STAMP)
	$(PY) -m pytest -q --durations=15 tests

# All 16 zoo models agree eager vs predict vs XLA (1e-5, both unrolls, at
# initialisation and after training steps); `make test` checks the two with
# layer norm, this target all of them (about 12 minutes on 2 cores).
test-execution-modes: $(STAMP)
	TNN_ALL_EXECUTION_MODES=1 $(PY) -m pytest -q tests/zoo/test_execution_modes.py

# The wheel installed into a fresh virtual environment and run outside the
# repository (.ci/test_wheel.sh; CI runs it after `make test`).
# TNN_WHEEL_DEPS=venv reuses .venv's dependencies instead of the index.
test-wheel: $(STAMP)
	PY=$(abspath $(PY)) bash .ci/test_wheel.sh

# PYTHONPATH: the benchmarks import `training` (the checkout's name of
# tnn.training), which the editable install does not put on the path.
bench: $(STAMP)
	PYTHONPATH=$(CURDIR) $(PY) benchmarks/unroll.py
	PYTHONPATH=$(CURDIR) $(PY) benchmarks/train_throughput.py
	PYTHONPATH=$(CURDIR) $(PY) benchmarks/neural_fit.py

clean:
	rm -rf $(VENV) build *.egg-info
