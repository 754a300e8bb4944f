"""Direct fit of a ConvRNN's recurrent dynamics to time-binned responses.

- `trainable`: which parameters are "recurrent and feedback";
- `readouts`: linear readouts shared by all time bins (ridge, penalty
  chosen over stimulus folds);
- `model`: the Keras model the fit trains (reduced node features at the
  bins' steps -> per-area readouts) and its masked Adam;
- `callbacks`: batches in a fixed order, epoch-0 scoring, the exact ridge
  readouts after each epoch and the best-epoch restore;
- `fit`: `DynamicsFit`, training through `keras.Model.fit` (checkpoints,
  TensorBoard, BackupAndRestore, progress bar);
- `compare`: the fitted model vs the feed-forward control
  (`TNNGraph.unroll(..., recurrence="off")`) and per-bin maps.
"""
