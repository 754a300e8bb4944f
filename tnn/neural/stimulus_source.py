"""Stimuli read batch by batch, as model inputs, for feature extraction.

`stimulus_source(model, stimuli, ...)` wraps any of

- a uint8 array of images `[N, H, W, 3]` or movies `[N, F, H, W, 3]`
  (a `np.memmap` or `np.load(..., mmap_mode="r")` works: only the rows of
  a batch are read);
- a list of images (uint8 `[H_i, W_i, 3]`, sizes may differ) or of image
  file paths (read per batch with Pillow);
- a callable `stimuli(start, stop)` returning the uint8 images (or movies,
  or a list of images of any sizes) of rows `start:stop`, with
  `n_stimuli=N`: a set of any size never sits in memory at once.

`source.inputs(start, stop)` gives the model inputs of those rows: images
scaled to [0, 1], resized to the model's input and normalised
(`tnn.neural.stimuli.preprocess_stimuli`; images of different sizes one by
one), movies presented frame by frame (`tnn.neural.movie_stimuli`).

`source.key` identifies the stimuli for resuming an extraction: the SHA-1
of the array's bytes (read once, chunk by chunk), of the list of paths, or,
for a callable, of its first batch and N (a callable is trusted to return
the same rows on a rerun).
"""

import hashlib
import os

import numpy as np

from tnn.neural import movie_stimuli
from tnn.neural.stimuli import preprocess_stimuli

_CHUNK = 64


def read_image(path):
    """An image file as uint8 RGB `[H, W, 3]` (Pillow; alpha dropped)."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "reading image files needs Pillow: pip install pillow.") from None
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"stimulus {path!r} cannot be read: no such file.")
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError(f"stimulus {path!r} cannot be read as an image "
                         f"({err}); pass files Pillow can open.") from None


def _is_path(item):
    return isinstance(item, (str, bytes, os.PathLike))


class StimulusSource:
    """Rows `start:stop` of a stimulus set as model inputs.

    Attributes:
        count: number of stimuli N.
        movies: True for movie stimuli `[N, F, H, W, 3]`.
        key: SHA-1 hex digest identifying the stimuli (module docs).
    """

    def __init__(self, read, count, key, input_shape, movies=False,
                 frame_ms=None, times=None, blank_value=0.5):
        self._read, self.count, self._key = read, int(count), key
        self.input_shape = tuple(input_shape)
        self.movies, self.frame_ms = movies, frame_ms
        self.times, self.blank_value = times, blank_value

    @property
    def key(self):
        if callable(self._key):   # computed when first asked for
            self._key = self._key()
        return self._key

    def raw(self, start, stop):
        """The stimuli of rows `start:stop` as given (uint8 or a list)."""
        batch = self._read(start, stop)
        if len(batch) != stop - start:
            raise ValueError(
                f"the stimuli callable returned {len(batch)} stimuli for rows"
                f" {start}:{stop}; it must return stop - start of them.")
        return batch

    def inputs(self, start, stop):
        """float32 model inputs `[B, H, W, C]` or movies `[B, T, ...]`."""
        batch = self.raw(start, stop)
        if isinstance(batch, np.ndarray):
            return self._convert(batch)
        images = [read_image(x) if _is_path(x) else np.asarray(x)
                  for x in batch]
        if len({image.shape for image in images}) == 1:
            return self._convert(np.stack(images))
        return np.concatenate([self._convert(image[None])
                               for image in images])

    def _convert(self, batch):
        is_movie = batch.ndim == 5
        if is_movie != self.movies:
            raise ValueError(
                f"a stimulus batch of shape {batch.shape} in a set of "
                f"{'movies [N, F, H, W, 3]' if self.movies else 'images'}; "
                "every batch must be of the same kind.")
        if not is_movie:
            return preprocess_stimuli(batch, self.input_shape)
        return movie_stimuli.present_movies(
            batch, self.frame_ms, self.input_shape, self.times,
            self.blank_value)


def _check_kind(ndim, shape, frame_ms, times):
    """True for movies; clear errors for frame_ms misuse."""
    if ndim != 5:
        if frame_ms is not None:
            raise ValueError(f"frame_ms applies to movie stimuli [N, F, H, "
                             f"W, 3]; these are {shape}.")
        return False
    if frame_ms is None:
        raise ValueError(f"movie stimuli {shape} need frame_ms (the "
                         f"duration of one frame in ms).")
    movie_stimuli.steps_per_frame(frame_ms)
    movie_stimuli.warn_cut(shape[1], frame_ms, times)
    return True


def _array_key(array):
    digest = hashlib.sha1(f"{array.dtype}{array.shape}".encode())
    for start in range(0, len(array), _CHUNK):
        digest.update(np.ascontiguousarray(array[start:start + _CHUNK]))
    return digest.hexdigest()


def _list_key(items):
    digest = hashlib.sha1()
    for item in items:
        digest.update(str(os.fspath(item)).encode() if _is_path(item)
                      else _array_key(np.asarray(item)).encode())
    return digest.hexdigest()


def stimulus_source(model, stimuli, n_stimuli=None, frame_ms=None,
                    times=None, batch_size=32):
    """A `StimulusSource` for `stimuli` (module docs) shown to `model`.

    Args:
        model: a TNNGraph (its `graph_input_shape`, `times`, `blank_value`).
        stimuli: an array, a list of images or paths, or a callable
            `(start, stop) -> uint8 batch`.
        n_stimuli: N, required with a callable (ignored otherwise).
        frame_ms: duration of one movie frame (movie stimuli only).
        times: steps of a movie presentation (default `model.times`).
        batch_size: rows hashed for a callable's key.
    """
    times = model.times if times is None else int(times)
    common = dict(input_shape=model.graph_input_shape, frame_ms=frame_ms,
                  times=times, blank_value=model.blank_value)
    if callable(stimuli) and not isinstance(stimuli, np.ndarray):
        if isinstance(n_stimuli, bool) or not isinstance(
                n_stimuli, (int, np.integer)) or n_stimuli < 1:
            raise ValueError(
                f"a stimuli callable (start, stop) -> batch needs "
                f"n_stimuli, the number of stimuli (a positive int); got "
                f"{n_stimuli!r}.")
        source = StimulusSource(stimuli, n_stimuli, None, **common)
        first = source.raw(0, min(batch_size, int(n_stimuli)))
        if isinstance(first, np.ndarray):
            source.movies = _check_kind(first.ndim, first.shape, frame_ms,
                                        times)
            part = _array_key(first)
        else:
            part = _list_key(first)
        digest = hashlib.sha1(f"{n_stimuli} {part}".encode())
        source._key = digest.hexdigest()
        return source
    if isinstance(stimuli, (list, tuple)):
        if not stimuli:
            raise ValueError("no stimuli to extract features for.")
        items = list(stimuli)
        shape = (None if _is_path(items[0])
                 else (len(items),) + np.shape(items[0]))
        movies = _check_kind(4 if shape is None else len(shape),
                             shape or f"{len(items)} image paths",
                             frame_ms, times)
        return StimulusSource(lambda a, b: items[a:b], len(items),
                              lambda: _list_key(items), movies=movies,
                              **common)
    if not isinstance(stimuli, np.ndarray):
        stimuli = np.asarray(stimuli)
    if stimuli.ndim == 0 or stimuli.shape[0] == 0:
        raise ValueError("no stimuli to extract features for.")
    movies = _check_kind(stimuli.ndim, stimuli.shape, frame_ms, times)
    return StimulusSource(lambda a, b: stimuli[a:b], len(stimuli),
                          lambda: _array_key(stimuli), movies=movies,
                          **common)
