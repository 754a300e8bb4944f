"""The README's Python example runs as written; its install lines match
setup.py."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_python_example_runs(capsys):
    text = open(os.path.join(ROOT, "README.md")).read()
    assert "make demo" in text and "make test" in text
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "(2, 16, 10) 5" in out
    assert "'conv3': TensorShape([2, 16, 6, 6, 256])" in out


def test_readme_install_lines_match_setup():
    """The extras and commands the README names are setup.py's."""
    text = open(os.path.join(ROOT, "README.md")).read()
    setup = open(os.path.join(ROOT, "setup.py")).read()
    for extra in re.findall(r"pip install (?:-e )?'\.\[(\w+)\]'", text):
        assert f'"{extra}": [' in setup, extra
    scripts = set(re.findall(r'"(tnn-[a-z-]+) = ', setup))
    assert len(scripts) == 10
    for script in scripts:
        assert f"`{script}`" in text, script
