"""The `tnn_export` decorator: registers a class for Keras serialization."""

import keras


def tnn_export(cls):
    """Registers `cls` with Keras as `tnn>ClassName`.

    A saved `TNNGraph` then reloads with `keras.saving.load_model` without
    `custom_objects`.
    """
    return keras.saving.register_keras_serializable(package="tnn")(cls)
