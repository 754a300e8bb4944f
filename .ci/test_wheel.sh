#!/usr/bin/env bash
# `make test-wheel`: tnn as a new user gets it. Builds the wheel, installs
# it into a fresh virtual environment (the repository is not on sys.path,
# the working directory is outside it) and runs the README's Python
# example, the console scripts' --help and a `tnn-train` smoke run on a
# shipped config with the embedded digits (no download).
#
#   TNN_WHEEL_DEPS=registry (default, CI): `pip install 'tnn-*.whl[cpu]'`,
#       dependencies resolved from the package index (pip's cache reuses
#       what `make install` downloaded, where caching works).
#   TNN_WHEEL_DEPS=venv: the wheel alone (`--no-deps`); its dependencies
#       come from .venv's site-packages, appended by a .pth file (which
#       does not load .venv's editable tnn). No network; about a minute.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
py=${PY:-$repo/.venv/bin/python}
deps=${TNN_WHEEL_DEPS:-registry}
start=$SECONDS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tnn-wheel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
step() { printf '[test-wheel %4ds] %s\n' $((SECONDS - start)) "$*"; }
# Runs a command with stderr (TensorFlow's start-up lines) in $tmp/err.log,
# shown only if it fails.
quiet() { "$@" 2> "$tmp/err.log" || { tail -40 "$tmp/err.log" >&2; return 1; }; }

step "building the wheel from a copy of the sources"
mkdir "$tmp/src"
(cd "$repo" && cp -r tnn training gin_configs setup.py pyproject.toml \
    README.md "$tmp/src/")
"$py" -m pip wheel --quiet --no-deps --no-build-isolation \
    --disable-pip-version-check --wheel-dir "$tmp/dist" "$tmp/src"
wheel=$(ls "$tmp"/dist/tnn-*.whl)

step "fresh virtual environment ($deps dependencies)"
base=$("$py" -c 'import sys; print(sys._base_executable)')
"$base" -m venv "$tmp/venv"
vpy=$tmp/venv/bin/python
vpip=("$vpy" -m pip --quiet --disable-pip-version-check)
case $deps in
    registry) "${vpip[@]}" install "$wheel[cpu]" ;;
    venv)
        site=$("$vpy" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
        "$py" -c 'import sysconfig; print(sysconfig.get_path("purelib"))' \
            > "$site/tnn_wheel_check_deps.pth"
        "${vpip[@]}" install --no-deps "$wheel" ;;
    *) echo "TNN_WHEEL_DEPS must be registry or venv, not $deps" >&2; exit 2 ;;
esac

cd "$tmp"
export TF_CPP_MIN_LOG_LEVEL=3
step "import tnn from the wheel; no top-level training"
quiet "$vpy" - "$tmp/venv" <<'PY'
import importlib.util, sys
import tnn
assert tnn.__file__.startswith(sys.argv[1]), tnn.__file__
assert importlib.util.find_spec("training") is None, "top-level training"
print("tnn from", tnn.__file__)
PY

step "the README's Python example"
"$vpy" - "$repo/README.md" > readme_example.py <<'PY'
import re, sys
text = open(sys.argv[1]).read()
print(re.search(r"```python\n(.*?)```", text, re.S).group(1))
PY
quiet "$vpy" readme_example.py | tee readme_example.out
grep -q "(2, 16, 10) 5" readme_example.out
grep -q "'conv3': TensorShape(\[2, 16, 6, 6, 256\])" readme_example.out

step "console scripts: every one loads and formats its --help; tnn-train --help"
quiet "$vpy" - <<'PY'
from importlib.metadata import distribution
scripts = [e for e in distribution("tnn").entry_points
           if e.group == "console_scripts"]
assert {e.name for e in scripts} == {
    "tnn-train", "tnn-evaluate", "tnn-fit-neural", "tnn-convert",
    "tnn-demo", "tnn-make-synthetic-ventral", "tnn-fit-behavior",
    "tnn-make-synthetic-behavior", "tnn-movie-demo", "tnn-search"}, scripts
for script in scripts:
    module = __import__(script.module, fromlist=["parser"])
    assert "--verbosity" in module.parser().format_help(), script.name
    assert callable(script.load()), script.name
PY
quiet "$tmp/venv/bin/tnn-train" --help > tnn-train.help
grep -q -- "--gin_files" tnn-train.help

step "tnn-train smoke run: --gin_files=tasks/demo_convrnn (includes" \
     "tasks/digit_debris) --gin_files=tasks/smoke"
"$tmp/venv/bin/tnn-train" --gin_files=tasks/demo_convrnn \
    --gin_files=tasks/smoke.gin --base_dir="$tmp/run" > train.log 2>&1 \
    || { tail -40 train.log; exit 1; }
test -f "$tmp/run/operative_config.gin"
test -d "$tmp/run/export"
grep -q "small_convrnn.widths = (4, 8, 8)" "$tmp/run/operative_config.gin"

step "passed"
