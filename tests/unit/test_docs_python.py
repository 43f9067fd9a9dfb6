"""docs/python.md runs: every ```python example (in order, one namespace, as in a notebook) and every
`tracekit` line of its ```sh examples, on the real sample traces; its column tables are the DataFrames'
columns and dtypes; every public name of the API is documented."""

from __future__ import annotations

import inspect
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import tracekit
from tracekit.api import Analysis, Trace

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "python.md"
TEXT = DOC.read_text()
README = (ROOT / "README.md").read_text()
BLOCK = re.compile(r"^```(python|sh)\n(.*?)^```", re.DOTALL | re.MULTILINE)
COLUMNS = re.compile(r"^#### Columns of `([^`]+)`\n(.*?)(?=^#|\Z)", re.DOTALL | re.MULTILINE)
ROW = re.compile(r"^\| `(\w+)` \| (\w+) \|", re.MULTILINE)


@pytest.fixture(scope="module")
def namespace(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The namespace after every example ran, from a folder that looks like the repository root."""
    folder = tmp_path_factory.mktemp("docs")
    for name in ("sample_traces", "README.md"):
        (folder / name).symlink_to(ROOT / name)
    scope: dict = {}
    before = Path.cwd()
    os.chdir(folder)
    try:
        for number, (language, code) in enumerate(BLOCK.findall(TEXT), 1):
            if language == "python":
                exec(compile(code, f"{DOC}, example {number}", "exec"), scope)
            else:
                _run_commands(code, folder)
    finally:
        os.chdir(before)
    return {**scope, "folder": folder}


def _run_commands(code: str, folder: Path) -> None:
    for line in code.splitlines():
        if line.startswith("tracekit "):
            command = [sys.executable, "-m", "tracekit", *shlex.split(line)[1:]]
            result = subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=120)
            assert result.returncode == 0, f"{line}: {result.stderr}"


def _documented_columns() -> dict[str, list[tuple[str, str]]]:
    return {expression: ROW.findall(table) for expression, table in COLUMNS.findall(TEXT)}


def test_the_examples_run_and_leave_what_they_promise(namespace: dict) -> None:
    assert isinstance(namespace["trace"], Trace) and isinstance(namespace["analysis"], Analysis)
    assert namespace["selected"].steps["step"].tolist() == [5, 6, 7, 8]
    assert len(namespace["top"]) == 3 and namespace["h2d"]["copies"].sum() == 280
    written = sorted(p.name for p in (namespace["folder"] / "reports").iterdir())
    assert written == ["copies.parquet", "h2d28.analysis.json", "h2d28.zh.html", "kernels.parquet"]


def test_every_frame_has_the_documented_columns_and_dtypes(namespace: dict) -> None:
    documented = _documented_columns()
    assert set(documented) == {
        "trace.to_pandas()",
        "analysis.steps",
        "analysis.bubbles",
        "analysis.hotspots",
        "analysis.operators",
        "analysis.copies",
        "analysis.recommendations",
    }
    for expression, rows in documented.items():
        frame = eval(expression, namespace)
        assert len(frame) > 0, expression  # the sample fills every table: the dtypes are its values'
        assert frame.columns.tolist() == [name for name, _ in rows], expression
        for name, dtype in rows:
            found = frame[name].dtype
            assert _has_dtype(frame[name], dtype), f"{expression}[{name!r}] is {found}, not {dtype}"


def _has_dtype(column: pd.Series, documented: str) -> bool:
    return str(column.dtype) == documented  # "category", "string", "int64", ...


def test_every_public_name_is_documented() -> None:
    for name in tracekit.__all__:
        assert f"`tracekit.{name}" in TEXT or f"`{name}`" in TEXT or name == "__version__", name
    for cls in (Trace, Analysis):
        own = [name for name in vars(cls) if not name.startswith("_")]
        missing = [name for name in own if f"`{name}`" not in TEXT and f"{cls.__name__}.{name}(" not in TEXT]
        assert not missing, f"{cls.__name__}: {missing}"
    keywords = [name for name in inspect.signature(tracekit.analyze).parameters if name != "trace"]
    assert [name for name in keywords if f"| `{name}` |" not in TEXT] == []


def test_the_documented_export_tables_are_the_command_s() -> None:
    from tracekit.cli.export import TABLES

    assert f"[--table {'|'.join(TABLES)}]" in TEXT


def test_the_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sample_traces").symlink_to(ROOT / "sample_traces")
    monkeypatch.chdir(tmp_path)
    blocks = [code for language, code in BLOCK.findall(README) if language == "python"]
    assert len(blocks) == 1
    scope: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), scope)
    assert (tmp_path / "reports" / "h2d28.html").stat().st_size > 0
    assert scope["analysis"].hotspots["count"].tolist() == [10] * 5


def test_the_readme_names_the_python_pyproject_requires() -> None:
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert required.startswith(">=")
    assert f"Python {required.removeprefix('>=')}+" in README
    assert not re.search(r"Python 3\.\d+\+", README.replace(f"Python {required.removeprefix('>=')}+", ""))


def test_aicore_values_are_quoted_for_the_shell() -> None:
    texts = {path.name: path.read_text() for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]}
    values = [(name, value) for name, text in texts.items() for value in re.findall(r"--aicore (\S+)", text)]
    assert values and all(v[0] in "'\"" for _, v in values if "|" in v), values
