"""The original world: TF1 tnn / convrnns JSON graphs and checkpoints.

- `tnn.interop.tnn_json`: the original libraries' JSON graph files as
  `GraphSpec`s and `TNNGraph`s (`from_tnn_json`).
- `tnn.interop.tf1_checkpoint`: TF1 zoo checkpoints as Keras weights
  (`from_tf1_checkpoint`), with the original variable names.
"""
