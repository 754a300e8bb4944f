"""Presentation presets of the zoo models (reference §5.2).

A model is shown the image for `image_off` steps, then a blank, over
`times` steps. Each registered model has its own training presentation
("default"); the other presets override it:

- "neural": the animals' presentation, 100 ms on and 260 ms analysed at
  10 ms per step (26 steps, image off at step 10);
- "constant": the image stays on for every step.
"""

PRESENTATIONS = {
    "default": {},
    "neural": {"times": 26, "image_off": 10},
    "constant": {"image_off": None},
}


def presentation_settings(presentation, times, image_off):
    """`{"times", "image_off"}` of a preset over a model's defaults.

    Args:
        presentation: a key of `PRESENTATIONS`.
        times, image_off: the model's registered (training) presentation.

    Raises:
        ValueError: unknown preset.
    """
    if presentation not in PRESENTATIONS:
        raise ValueError(f"Unknown presentation {presentation!r}; use one of "
                         f"{sorted(PRESENTATIONS)}.")
    settings = {"times": times, "image_off": image_off}
    settings.update(PRESENTATIONS[presentation])
    return settings
