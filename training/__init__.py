"""Training workflow around `tnn` models: data pipelines and entry points."""
