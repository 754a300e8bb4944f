"""The one command-line style of the `python -m training.X` entry points.

Every entry point (`train`, `evaluate`, `fit_neural`, `demo`,
`make_synthetic_ventral`, `convert_tf1`) builds its parser with
`make_parser`, adds the shared groups it needs (`add_gin_flags`,
`add_base_dir`) and its own flags, and runs with `run`:

    --gin_files PATH      gin file, applied in order (repeatable): a path,
                          or a shipped config by name (`models/rgc_shallow`,
                          `tasks/smoke.gin`; `resolve_gin_file`)
    --gin_bindings TEXT   gin binding applied after the files (repeatable)
    --base_dir DIR        the run's output folder; `operative_config.gin`
                          (`write_operative_config`) is written there
    --verbosity LEVEL     absl logging level: debug, info, warning
                          (default), error, fatal, or absl's ints 1..-3

Why argparse, one parser per entry point, and not absl flags: absl keeps
one process-global flag registry. Entry points that define the same flag
(`--model`, `--out`, `--base_dir`) cannot be imported into one process
(tests, notebooks, `demo` driving `train`): the second definition is
refused, which pushed `convert_tf1` off absl and made the others borrow
`training.train`'s flags by importing it. The global registry also
leaks: `--help` of one entry point shows only its own module's flags (the
shared ones only under `--helpfull`), and an in-process caller must reset
`flags.FLAGS` between runs. A parser per entry point has none of this:
`--help` lists every flag the entry point takes, importing never defines
anything, and `main(argv)` can be called in-process any number of times.

The absl spellings keep working: `--flag=value` and `--flag value`,
booleans as `--flag`, `--noflag`, `--flag=true|false` (`add_bool`), comma
lists (`add_list`), `--helpfull` (an alias of `--help`) and `--verbosity`
(alias `-v`).
"""

import argparse
import os
import sys

import gin
from absl import logging

from tnn import config as tnn_config

# The folder that holds `training/` and `gin_configs/`: the repository
# root, or the installed `tnn` package, where setup.py puts them as
# `tnn/training/` and `tnn/gin_configs/`.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIN_CONFIGS = os.path.join(REPO_ROOT, "gin_configs")
OPERATIVE_CONFIG = "operative_config.gin"
_TRUE = ("1", "true", "t", "yes", "y")
_FALSE = ("0", "false", "f", "no", "n")
_LEVELS = {"1": "debug", "0": "info", "-1": "warning", "-2": "error",
           "-3": "fatal"}


class _HelpFull(argparse.Action):
    """`--helpfull`: absl's full help, here the same as `--help`."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0,
                         default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.print_help()
        parser.exit()


def _verbosity(text):
    level = _LEVELS.get(text.strip(), text.strip().lower())
    if level not in _LEVELS.values():
        raise argparse.ArgumentTypeError(
            f"unknown level {text!r}; use one of {sorted(_LEVELS.values())} "
            f"or absl's ints 1..-3.")
    return level


def make_parser(name, description):
    """A parser with the logging flags every entry point takes.

    Args:
        name: the module, e.g. "training.train" (usage and error lines).
        description: one line for `--help` (e.g. the module docstring's).
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m {name}", description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(entry_point=name)
    parser.add_argument("--helpfull", action=_HelpFull,
                        help="Same as --help (absl's spelling).")
    parser.add_argument("-v", "--verbosity", type=_verbosity,
                        default="warning", help="Logging level: debug, "
                        "info, warning (default), error, fatal.")
    return parser


def add_gin_flags(parser, files_help="Gin file, applied in order "
                  "(repeatable): a path, or a shipped config by name, e.g. "
                  "models/rgc_shallow or tasks/smoke."):
    """Adds the multi flags `--gin_files` and `--gin_bindings`."""
    parser.add_argument("--gin_files", action="append", default=[],
                        metavar="PATH", help=files_help)
    parser.add_argument("--gin_bindings", action="append", default=[],
                        metavar="BINDING", help="Gin binding applied after "
                        "the files (repeatable), e.g. 'train.seed = 3'.")


def add_base_dir(parser, required=True, help="Output folder of the run."):
    """Adds `--base_dir`."""
    parser.add_argument("--base_dir", required=required, default=None,
                        metavar="DIR", help=help)


def _bool(text):
    value = str(text).strip().lower()
    if value in _TRUE + _FALSE:
        return value in _TRUE
    raise argparse.ArgumentTypeError(f"expected true or false, got "
                                     f"{text!r}.")


def add_bool(parser, name, default, help):
    """absl-style boolean: `--name`, `--noname`, `--name=true|false`."""
    parser.add_argument(f"--{name}", nargs="?", const=True, type=_bool,
                        default=default, help=help)
    parser.add_argument(f"--no{name}", dest=name, action="store_false",
                        help=argparse.SUPPRESS)


def add_list(parser, name, help):
    """absl-style comma list: `--name=a,b,c` -> ["a", "b", "c"]."""
    parser.add_argument(
        f"--{name}", default=None, metavar="A,B,...", help=help,
        type=lambda text: [item for item in text.split(",") if item])


REQUIRED = object()  # the default of a flag that must be given


def add_flags(parser, flags):
    """Adds an entry point's own flags from a table.

    Args:
        parser: from `make_parser`.
        flags: `(name, type, default, help)` rows; type `bool` makes an
            absl-style boolean (`add_bool`), `list` a comma list
            (`add_list`); default `REQUIRED` makes the flag required.
    """
    for name, kind, default, text in flags:
        if kind is bool:
            add_bool(parser, name, default, text)
        elif kind is list:
            add_list(parser, name, text)
        else:
            parser.add_argument(
                f"--{name}", type=kind, required=default is REQUIRED,
                default=None if default is REQUIRED else default, help=text)


def entry_point(main, parser):
    """The `run(argv=None)` console entry point of a module (`run`)."""
    def run_entry_point(argv=None):
        return run(main, parser(), argv)
    run_entry_point.__doc__ = (
        "Console entry point: parses argv (default sys.argv[1:]) and runs "
        "main; errors end in one line, not a traceback.")
    return run_entry_point


def shipped_gin_configs():
    """Names of the shipped gin configs, e.g. "models/rgc_shallow" (sorted).

    They live in `GIN_CONFIGS`: `gin_configs/` at the repository root, or
    `tnn/gin_configs/` of an installed wheel (setup.py's docstring).
    """
    names = []
    for folder, _, files in os.walk(GIN_CONFIGS):
        rel = os.path.relpath(folder, GIN_CONFIGS)
        names += [os.path.normpath(os.path.join(rel, f[:-len(".gin")]))
                  .replace(os.sep, "/") for f in files if f.endswith(".gin")]
    return sorted(names)


def resolve_gin_file(path):
    """The absolute path of one `--gin_files` value; else fails in one line.

    In order: a path as given (absolute or relative to the working
    directory); a shipped config by name, with or without ".gin"
    (`models/rgc_shallow`, `tasks/smoke.gin`); a path relative to
    `REPO_ROOT` (`gin_configs/models/rgc_shallow.gin`, which works
    installed too).
    """
    path = os.fspath(path)
    if os.path.isfile(path):
        return os.path.abspath(path)
    if not os.path.isabs(path):
        name = path if path.endswith(".gin") else path + ".gin"
        for candidate in (os.path.join(GIN_CONFIGS, name),
                          os.path.join(REPO_ROOT, path)):
            if os.path.isfile(candidate):
                return candidate
    groups = sorted({name.split("/")[0] for name in shipped_gin_configs()
                     if "/" in name})
    raise ValueError(
        f"Gin file {path!r} does not exist, nor is it a shipped config "
        f"(a name under {GIN_CONFIGS}, e.g. models/rgc_shallow; folders: "
        f"{', '.join(groups)}); check the --gin_files path.")


def _search_includes_in_repo_root_first():
    """`include 'gin_configs/...'` lines resolve against REPO_ROOT first.

    gin tries its search paths in order, the working directory ('') first,
    with its `open` reader and then its Python-path reader. The latter
    fails with a TypeError (not "not found") when `gin_configs` is
    importable as a namespace package, as it is whenever the repository
    root is on sys.path and the working directory is elsewhere; so
    REPO_ROOT (installed: the `tnn` package folder) goes first.
    `resolve_gin_file` returns absolute paths, which gin reads directly.
    """
    prefixes = getattr(gin.config, "_LOCATION_PREFIXES", None)
    if not isinstance(prefixes, list):  # a gin without the list: append
        gin.add_config_file_search_path(REPO_ROOT)
        return
    if prefixes[:1] != [REPO_ROOT]:
        while REPO_ROOT in prefixes:
            prefixes.remove(REPO_ROOT)
        prefixes.insert(0, REPO_ROOT)


def parse_gin(files=(), bindings=(), renamed=None):
    """Parses gin files then bindings; any unknown name fails in one line.

    Args:
        files: gin file paths (`resolve_gin_file`).
        bindings: gin binding strings.
        renamed: optional `{old binding: new binding}`; an error about an
            old name also names its replacement.
    """
    files = [resolve_gin_file(path) for path in files]
    _search_includes_in_repo_root_first()
    try:
        tnn_config.parse_gin(files, list(bindings))
    except (ValueError, KeyError) as err:
        message = " ".join(str(err).split())
        hints = [f"{old} is now {new}"
                 for old, new in (renamed or {}).items() if old in message]
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise ValueError(f"Bad gin configuration: {message}{hint}") from None


def gin_binding(parameter):
    """`(True, value)` if `parameter` ("fn.arg") is bound, else (False,
    None)."""
    try:
        return True, gin.query_parameter(parameter)
    except (ValueError, TypeError):
        return False, None


def write_operative_config(base_dir):
    """Writes the gin bindings in effect to `base_dir/operative_config.gin`.

    Call it once the configured objects are built (gin lists only the
    bindings used so far). Returns the path.
    """
    path = os.path.join(os.fspath(base_dir), OPERATIVE_CONFIG)
    with open(path, "w") as f:
        f.write(gin.operative_config_str())
    return path


def error_message(err):
    """The message of an error on one line, without gin's "In call to
    configurable ..." lines."""
    lines = [line for line in str(err).splitlines()
             if not line.strip().startswith("In call to configurable")]
    return " ".join(" ".join(lines).split())


def run(main, parser, argv=None):
    """Parses `argv` (default `sys.argv[1:]`), sets logging, runs `main`.

    A `ValueError` ends the process with one line, `<module>: error:
    <message>` (exit status 1), instead of a traceback.

    Args:
        main: `(args: argparse.Namespace) -> None`.
        parser: from `make_parser`.
        argv: the arguments, without the program name.
    """
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    logging.set_verbosity(args.verbosity)
    try:
        return main(args)
    except ValueError as err:
        raise SystemExit(f"{args.entry_point}: error: "
                         f"{error_message(err)}") from None
