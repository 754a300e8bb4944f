# Quick start: `make demo` and `make test` each create .venv and install tnn.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo neural-demo movie-demo search-demo test test-wheel test-execution-modes bench clean

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

# Movies (issue #13): next-frame prediction, segmentation under occlusion
# and self-supervised pre-training + linear probe on moving digits, a
# ConvRNN against its parameter-matched feed-forward control (one seed,
# about 10 minutes on 2 cores; `--seeds 0 1 2` without --quick gives the
# evidence in benchmarks/RESULTS.md).
movie-demo: $(STAMP)
	$(PY) -m training.movie_demo --quick --base_dir runs/movie_demo

# Architecture search (issue 12): a 12-trial Optuna study over the demo
# ConvRNN's cells, widths, kernels, feedback and presentation on heavy
# digit debris (gin_configs/search/demo.gin, 10-15 minutes on 2 cores);
# the report (plots, trials.csv, best/ gin files and models) lands in
# runs/search_demo. Running it again resumes the study.
search-demo: $(STAMP)
	$(PY) -m training.search --gin_files=search/demo --base_dir=runs/search_demo

test: $(STAMP)
	$(PY) -m pytest -q --durations=15 tests

# `make test` and the end-to-end tests it leaves out for CI's time budget
# (marked `extended`: redirected logs of training and fitting, a tiny
# replication study that resumes).
.PHONY: test-extended
test-extended: $(STAMP)
	TNN_EXTENDED_TESTS=1 $(PY) -m pytest -q --durations=15 tests

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

# Brain-Score's own benchmark machinery (brainscore-vision 2.4.2, offline:
# local stimuli and assemblies) against tnn.brainscore.TNNBrainModel, with
# scores checked equal to tnn.neural's (tests_brainscore/, a few minutes).
# Its own environment: the CPU build of torch 2.13 first, from TORCH_WHEEL
# when that file exists, else from the CPU index (a plain `pip install
# torch` pulls the multi-GB CUDA build):
#   pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
# then tnn with its cpu, test and brainscore extras (torch stays 2.13.0).
.PHONY: test-brainscore
BS_VENV := .venv-brainscore
BS_PY := $(BS_VENV)/bin/python
BS_STAMP := $(BS_VENV)/.installed
TORCH_WHEEL ?= /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
BS_PIP := $(BS_PY) -m pip install --quiet --disable-pip-version-check

$(BS_STAMP): setup.py pyproject.toml
	$(PYTHON) -m venv $(BS_VENV)
	if [ -f '$(TORCH_WHEEL)' ]; then $(BS_PIP) '$(TORCH_WHEEL)'; \
	else $(BS_PIP) torch==2.13.0 --index-url $(TORCH_INDEX); fi
	$(BS_PIP) -e '.[cpu,test,brainscore]' 'torch==2.13.0'
	touch $(BS_STAMP)

test-brainscore: $(BS_STAMP)
	BS_INSTALL_DEPENDENCIES=no $(BS_PY) -m pytest -q --durations=10 tests_brainscore

# One set of weights on TensorFlow, JAX and PyTorch (issue #11). `make test`
# checks JAX (tests/backends, JAX comes with the test extra); this target
# installs PyTorch's CPU build into .venv if absent (from TORCH_WHEEL when
# that file exists, else from the CPU index, as on any other machine:
#   pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
# a plain `pip install torch` pulls the multi-GB CUDA build), checks all
# 16 models under PyTorch, then times rgc_shallow on every backend
# (benchmarks/backends.py; results in benchmarks/RESULTS.md).
.PHONY: test-torch
TORCH_WHEEL ?= /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_PIP := $(PY) -m pip install --quiet --disable-pip-version-check

test-torch: $(STAMP)
	$(PY) -c 'import torch' 2>/dev/null || \
	if [ -f '$(TORCH_WHEEL)' ]; then $(TORCH_PIP) '$(TORCH_WHEEL)'; \
	else $(TORCH_PIP) torch==2.13.0 --index-url $(TORCH_INDEX); fi
	TNN_TEST_BACKENDS=torch TNN_ALL_BACKEND_MODELS=1 \
		$(PY) -m pytest -q -s --durations=5 tests/backends
	$(PY) benchmarks/backends.py

# PYTHONPATH: the benchmarks import `training` (the checkout's name of
# tnn.training), which the editable install does not put on the path.
bench: $(STAMP)
	PYTHONPATH=$(CURDIR) $(PY) benchmarks/unroll.py
	PYTHONPATH=$(CURDIR) $(PY) benchmarks/train_throughput.py
	PYTHONPATH=$(CURDIR) $(PY) benchmarks/neural_fit.py

clean:
	rm -rf $(VENV) build *.egg-info
