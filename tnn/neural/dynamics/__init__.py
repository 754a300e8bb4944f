"""Direct fit of a ConvRNN's recurrent dynamics to time-binned responses.

- `trainable`: which parameters are "recurrent and feedback";
- `readouts`: linear readouts shared by all time bins;
- `fit`: `DynamicsFit`, training those parameters through `keras.Model.fit`;
- `compare`: the fitted model vs the feed-forward control and per-bin maps.
"""
