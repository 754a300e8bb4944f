"""A synthetic ventral stream with known ground truth.

- `generator`: stimuli and V4/IT-like responses from any feature function;
- `convrnn`: a ConvRNN "brain" as that feature function, and its truth;
- `truth`: checks of a fit report against the known truth.
"""
