"""Brain-Score's neural data (BrainIO) as `NeuralData`.

Brain-Score distributes recordings as BrainIO files (the classes ship in
brainscore-core as `brainscore_core.supported_data_standards.brainio`):

- a NeuroidAssembly NetCDF file: one data variable ("data", or
  "__xarray_dataarray_variable__" when written uncompressed) with dims
  presentation x neuroid [x time_bin], in any order. brainscore_core's
  `write_netcdf` resets the MultiIndexes of `presentation` and `neuroid`
  into plain coordinate variables along those dims: `stimulus_id` (legacy
  `image_id`) and `repetition` on presentation (one presentation per
  trial), `neuroid_id` and `region` on neuroid, `time_bin_start` /
  `time_bin_end` (ms) on time_bin. (A dim with a single coordinate is
  written under the dim's name plus "_" by brainscore_core's xarray, e.g.
  `presentation_` holding the stimulus ids; it is read as such.)
  MajajHong2015 (`dicarlo.MajajHong2015
  [.public/.private]`) has one bin, 70-170 ms; its `.temporal` variants
  many. The attribute `stimulus_set_identifier` names the stimulus set.
- a StimulusSet: a CSV with one row per stimulus, columns `stimulus_id`
  (legacy `image_id`), `filename` (the image's path inside the unzipped
  archive) and stimulus metadata such as `object_name`, plus a zip of the
  images (`stimulus_<identifier>.csv` / `.zip`, the zip unpacked into a
  folder of the zip's name by Brain-Score's loader).

`load_brainio_assembly` maps them onto this package's format:

- trials: presentations of the same stimulus are trials, indexed by
  their `repetition` value (trial r = r-th smallest repetition value over
  the file, so Brain-Score's split-halves over repetition values become
  `trial_halves` over the trial axis), or, without that coordinate, by
  their order in the file. Stimuli with fewer trials are NaN-padded, with
  a warning that says how many;
- stimuli: in order of first presentation (`sort_stimuli=True` sorts the
  ids, the order of Brain-Score's repetition-averaged assemblies);
- bins: `time_bin_start` -> `bin_start_ms`, the common width
  `time_bin_end - time_bin_start` -> `bin_width_ms`; a 2-D assembly is one
  bin covering `window_ms` (default 70-170 ms, MajajHong2015's window);
- `region` -> `neuron_area`, `neuroid_id` -> `neuron_id`, an object label
  (`object_name`, else `category_name`, from the assembly or the CSV) ->
  `object_label`;
- images: read with Pillow from the folder or the zip itself, converted
  to RGB (grey repeated, alpha dropped); all must share one size unless
  `image_size` is given, which resizes every image to image_size x
  image_size (bilinear, aspect ratio not kept).

xarray and a NetCDF engine are needed only here: `pip install
'tnn[brainio]'` (xarray, h5netcdf, Pillow).
"""

import csv
import os
import warnings
import zipfile

import numpy as np

from tnn.neural.data import NeuralData
from tnn.neural.data import load_neural_data

DEFAULT_WINDOW_MS = (70.0, 170.0)
LABEL_COORDS = ("object_name", "category_name")
_START = ("time_bin_start", "time_bin_start_ms")
_END = ("time_bin_end", "time_bin_stop", "time_bin_end_ms",
        "time_bin_stop_ms")
_DIMS = ("presentation", "time_bin", "neuroid")
_EXTRA = "pip install 'tnn[brainio]' (xarray, h5netcdf, Pillow)"


def _open(nc_path):
    """The assembly's DataArray and its per-dim coordinates (numpy)."""
    try:
        import xarray as xr
    except ImportError:
        raise ValueError(f"reading BrainIO assemblies needs xarray: "
                         f"{_EXTRA}.") from None
    try:
        with xr.open_dataset(nc_path) as ds:
            ds = ds.load()
    except (ValueError, OSError, ImportError) as err:
        first = str(err).strip().splitlines()[0] if str(err) else type(err)
        raise ValueError(
            f"cannot read {nc_path!r} as NetCDF ({first}); BrainIO "
            f"assemblies are NetCDF-4 files, read with a NetCDF engine: "
            f"{_EXTRA}.") from None
    names = list(ds.data_vars)
    if len(names) != 1:
        if "data" not in names:
            raise ValueError(
                f"{nc_path!r} holds data variables {names}; a BrainIO "
                "assembly holds one (named 'data').")
        names = ["data"]
    da = ds[names[0]]
    dims = tuple(da.dims)
    if set(dims) not in ({"presentation", "neuroid"},
                         {"presentation", "neuroid", "time_bin"}):
        raise ValueError(
            f"{nc_path!r} has dims {dims}; a NeuroidAssembly has "
            "presentation x neuroid [x time_bin]. Other assemblies (e.g. "
            "behaviour, or the object solution times of dicarlo.Kar2019, "
            "decoder x presentation) are not neural responses.")
    coords = {d: {} for d in dims}
    for name, var in da.coords.items():
        if len(var.dims) == 1 and var.dims[0] in coords:
            coords[var.dims[0]][name] = np.asarray(var.values)
    data = da.transpose(*[d for d in _DIMS if d in dims]).values
    if data.dtype.kind not in "fiub":
        raise ValueError(f"{nc_path!r} holds {data.dtype} values, not "
                         "numbers.")
    if "time_bin" not in dims:
        data = data[:, None, :]
    return data.astype(np.float32), coords, dict(da.attrs)


def _coord(coords, dim, names, path, what):
    for name in names:
        if name in coords[dim]:
            return coords[dim][name]
    raise ValueError(
        f"{path!r} has no {what} coordinate on {dim!r} (looked for "
        f"{list(names)}; it has {sorted(coords[dim])}).")


def _bins(coords, path, window_ms):
    if "time_bin" not in coords:
        lo, hi = (float(v) for v in window_ms)
        if not hi > lo:
            raise ValueError(f"window_ms must be (start, end) with end > "
                             f"start, got {window_ms!r}.")
        return np.array([lo]), hi - lo, np.arange(1)
    start = _coord(coords, "time_bin", _START, path, "bin start")
    end = _coord(coords, "time_bin", _END, path, "bin end")
    start, end = start.astype(np.float64), end.astype(np.float64)
    width = end - start
    if not np.all(width > 0) or not np.allclose(width, width[0]):
        raise ValueError(
            f"{path!r}: time bins must share one positive width, got "
            f"{sorted(set(width.tolist()))} ms; select bins of one width "
            "(assembly.isel(time_bin=...)) first.")
    order = np.argsort(start, kind="stable")
    if np.any(np.diff(start[order]) == 0):
        raise ValueError(f"{path!r}: two time bins start at the same ms.")
    return start[order], float(width[0]), order


def _trials(stimulus_id, repetition, path):
    """Trial index of every presentation, and the trial count R."""
    if repetition is not None:
        values, trial = np.unique(repetition, return_inverse=True)
        pairs = np.stack([np.unique(stimulus_id, return_inverse=True)[1],
                          trial])
        if np.unique(pairs, axis=1).shape[1] != stimulus_id.size:
            raise ValueError(
                f"{path!r}: some stimulus is presented twice with the same "
                "repetition value; pass repetition_coord=None to number "
                "trials by presentation order instead.")
        return trial, values.size
    trial = np.zeros(stimulus_id.size, dtype=int)
    seen = {}
    for p, sid in enumerate(stimulus_id):
        trial[p] = seen.get(sid, 0)
        seen[sid] = trial[p] + 1
    return trial, max(seen.values())


def _find_csv(nc_path, attrs):
    folder = os.path.dirname(os.path.abspath(nc_path))
    ident = attrs.get("stimulus_set_identifier")
    if isinstance(ident, str) and ident:
        named = os.path.join(folder,
                             f"stimulus_{ident.replace('.', '_')}.csv")
        if os.path.isfile(named):
            return named
    found = sorted(f for f in os.listdir(folder) if f.endswith(".csv"))
    if len(found) != 1:
        raise ValueError(
            f"cannot tell which StimulusSet CSV belongs to {nc_path!r} "
            f"({len(found)} CSV files next to it; stimulus set "
            f"{ident!r}); pass stimulus_csv (--stimulus_csv).")
    return os.path.join(folder, found[0])


def _read_csv(path):
    if not os.path.isfile(path):
        raise ValueError(f"stimulus CSV {path!r} does not exist.")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = list(rows[0]) if rows else []
    key = ("stimulus_id" if "stimulus_id" in columns else
           "image_id" if "image_id" in columns else None)
    if key is None or "filename" not in columns:
        raise ValueError(
            f"stimulus CSV {path!r} needs columns 'stimulus_id' (or "
            f"'image_id') and 'filename'; it has {columns}.")
    table = {}
    for row in rows:
        old = table.setdefault(row[key], row)
        if old["filename"] != row["filename"]:
            raise ValueError(
                f"stimulus CSV {path!r} lists stimulus {row[key]!r} with "
                f"two files ({old['filename']!r}, {row['filename']!r}).")
    return table, columns


class _Images:
    """Reads images from a folder or a zip archive."""

    def __init__(self, location):
        self.location = location
        if os.path.isfile(location) and zipfile.is_zipfile(location):
            self.zip = zipfile.ZipFile(location)
            self.names = set(self.zip.namelist())
        elif os.path.isdir(location):
            self.zip = None
        else:
            raise ValueError(
                f"stimulus folder {location!r} is neither a folder nor a "
                "zip archive; pass stimulus_dir (--stimulus_dir).")

    def read(self, filename, image_size):
        from PIL import Image, UnidentifiedImageError
        where = os.path.join(self.location, filename)
        try:
            if self.zip is not None:
                if filename not in self.names:
                    raise FileNotFoundError(filename)
                with self.zip.open(filename) as f:
                    image = Image.open(f)
                    image.load()
            else:
                with Image.open(where) as image:
                    image.load()
        except FileNotFoundError:
            raise ValueError(
                f"stimulus image {where!r} does not exist; is "
                "stimulus_dir the unzipped stimulus set (or its zip)?"
            ) from None
        except (UnidentifiedImageError, OSError) as err:
            raise ValueError(
                f"stimulus image {where!r} cannot be read as an image "
                f"({err}).") from None
        image = image.convert("RGB")
        if image_size is not None:
            image = image.resize((int(image_size), int(image_size)),
                                 Image.BILINEAR)
        return np.asarray(image, dtype=np.uint8)


def _default_dir(csv_path):
    stem = os.path.splitext(csv_path)[0]
    for candidate in (stem, stem + ".zip"):
        if os.path.exists(candidate):
            return candidate
    return os.path.dirname(os.path.abspath(csv_path))


def _stimuli(ids, table, images, image_size):
    arrays = [images.read(table[s]["filename"], image_size) for s in ids]
    shapes = sorted({a.shape for a in arrays})
    if len(shapes) > 1:
        raise ValueError(
            f"stimulus images have different sizes {shapes[:3]}; pass "
            "image_size to resize them all to one square size.")
    return np.stack(arrays)


def _labels(label_coord, coords, table, stimulus_id, stim, path):
    """Object label per stimulus, from the presentations or the CSV."""
    names = LABEL_COORDS if label_coord == "auto" else (label_coord,)
    columns = next(iter(table.values()))
    for name in names:
        if name in coords["presentation"]:
            per_presentation = coords["presentation"][name].astype(str)
            labels = np.empty(stimulus_id.size, dtype=per_presentation.dtype)
            labels[stim] = per_presentation
            wrong = np.flatnonzero(labels[stim] != per_presentation)
            if wrong.size:
                raise ValueError(
                    f"{path!r}: stimulus {stimulus_id[stim[wrong[0]]]!r} "
                    f"has several {name!r} values; a label must be one "
                    "per stimulus.")
            return labels
        if name in columns:
            return np.array([table[s][name] for s in stimulus_id])
    if label_coord != "auto":
        raise ValueError(
            f"label coordinate {label_coord!r} is neither on {path!r}'s "
            "presentations nor a stimulus CSV column.")
    return None


def load_brainio_assembly(nc_path, stimulus_csv=None, stimulus_dir=None,
                          image_size=None, label_coord="auto",
                          area_coord="region", default_area=None,
                          repetition_coord="repetition",
                          window_ms=DEFAULT_WINDOW_MS, sort_stimuli=False):
    """Reads a BrainIO NeuroidAssembly and its StimulusSet (module docs).

    Args:
        nc_path: the assembly's NetCDF file.
        stimulus_csv: the StimulusSet CSV; default the CSV next to
            `nc_path` (`stimulus_<identifier>.csv`, or the only one).
        stimulus_dir: folder (or zip) holding the CSV's `filename`s;
            default the CSV's name without `.csv` (folder, else `.zip`),
            else the CSV's folder.
        image_size: resize every image to this square size (default: keep
            the images' common size).
        label_coord: object-label coordinate / CSV column; "auto" tries
            `object_name` then `category_name`; None for no labels.
        area_coord: the neuroid coordinate holding the area.
        default_area: area of every neuroid when `area_coord` is absent.
        repetition_coord: presentation coordinate numbering the trials;
            None numbers them by presentation order.
        window_ms: (start, end) of the single bin of a 2-D assembly.
        sort_stimuli: order stimuli by id instead of first presentation.

    Returns:
        A validated `NeuralData`.
    """
    path = os.fspath(nc_path)
    if not os.path.isfile(path):
        raise ValueError(f"assembly file {path!r} does not exist.")
    values, coords, attrs = _open(path)
    ids = _coord(coords, "presentation",
                 ("stimulus_id", "image_id", "presentation_"), path,
                 "stimulus id").astype(str)
    neuron_id = _coord(coords, "neuroid", ("neuroid_id", "neuroid_"), path,
                       "neuroid id").astype(str)
    if area_coord in coords["neuroid"]:
        area = coords["neuroid"][area_coord].astype(str)
    elif default_area is not None:
        area = np.full(neuron_id.shape, str(default_area))
    else:
        raise ValueError(
            f"{path!r} has no {area_coord!r} coordinate on neuroid (it has "
            f"{sorted(coords['neuroid'])}); pass area_coord or "
            "default_area (e.g. 'IT').")
    bin_start, bin_width, order = _bins(coords, path, window_ms)
    values = values[:, order]
    rep = (coords["presentation"].get(repetition_coord)
           if repetition_coord else None)
    trial, n_trials = _trials(ids, rep, path)
    unique, first, stim = np.unique(ids, return_index=True,
                                    return_inverse=True)
    rank = (np.arange(unique.size) if sort_stimuli
            else np.argsort(np.argsort(first, kind="stable")))
    stim = rank[stim]
    stimulus_id = np.empty(unique.size, dtype=unique.dtype)
    stimulus_id[rank] = unique
    if n_trials < 2:
        raise ValueError(
            f"{path!r} has one presentation per stimulus (averaged over "
            "repetitions?); the split-half ceiling needs the trials: load "
            "the assembly with its repetitions.")
    responses = np.full((n_trials, unique.size) + values.shape[1:], np.nan,
                        dtype=np.float32)
    responses[trial, stim] = values
    counts = np.bincount(stim, minlength=unique.size)
    if np.any(counts < n_trials):
        warnings.warn(
            f"{path!r}: {int(np.sum(counts < n_trials))} of {unique.size} "
            f"stimuli have fewer than {n_trials} trials (fewest "
            f"{int(counts.min())}); their missing trials are NaN.",
            stacklevel=2)
    csv_path = stimulus_csv or _find_csv(path, attrs)
    table, _ = _read_csv(csv_path)
    missing = [s for s in stimulus_id if s not in table]
    if missing:
        raise ValueError(
            f"{len(missing)} stimulus id(s) of {path!r} are not in "
            f"{csv_path!r}, e.g. {missing[:3]}; pass the StimulusSet CSV "
            "of this assembly.")
    labels = None
    if label_coord is not None:
        labels = _labels(label_coord, coords, table, stimulus_id, stim,
                         path)
    images = _Images(stimulus_dir or _default_dir(csv_path))
    stimuli = _stimuli(stimulus_id, table, images, image_size)
    try:
        return NeuralData(
            stimuli=stimuli, stimulus_id=stimulus_id, responses=responses,
            bin_start_ms=bin_start, bin_width_ms=bin_width,
            neuron_area=area, neuron_id=neuron_id, object_label=labels)
    except ValueError as err:
        raise ValueError(f"assembly {path!r}: {err}") from None


def load_neural_file(path, stimulus_csv=None, stimulus_dir=None,
                     image_size=None):
    """A `.nc` BrainIO assembly (`load_brainio_assembly`) or our NPZ."""
    if os.fspath(path).endswith(".nc"):
        return load_brainio_assembly(path, stimulus_csv, stimulus_dir,
                                     image_size)
    if stimulus_csv or stimulus_dir:
        raise ValueError(
            f"stimulus_csv / stimulus_dir apply to BrainIO assemblies "
            f"(.nc); {os.fspath(path)!r} is an NPZ with its stimuli inside.")
    return load_neural_data(path)
