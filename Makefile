# Quick start: `make demo` and `make test` each create .venv and install tnn.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo neural-demo test bench clean

$(STAMP): setup.py
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
	$(PY) -m pytest -q tests

bench: $(STAMP)
	$(PY) benchmarks/unroll.py
	$(PY) benchmarks/train_throughput.py
	$(PY) benchmarks/neural_fit.py

clean:
	rm -rf $(VENV) build *.egg-info
