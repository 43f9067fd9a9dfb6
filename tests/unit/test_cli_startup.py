"""The command line starts without the implementations; its light names agree with theirs."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracekit import choices
from tracekit.cli import export, export_tables, ranks
from tracekit.cli.main import app
from tracekit.readers import READERS, detect_format, format_names
from tracekit.readers.memory_budget import MEMORY_BUDGET_ENV
from tracekit.readers.nsys.sniff import REPORT_MAGIC
from tracekit.report.html.i18n import LANGUAGES
from tracekit.rules.texts import LANGUAGES as RULE_LANGUAGES

SAMPLE = Path(__file__).resolve().parents[2] / "sample_traces" / "sim_case000_baseline.pt.trace.json.gz"
BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
HEAVY = ("pyarrow", "pandas", "plotly", "numpy", "tracekit.readers", "tracekit.analysis")
TYPER_PYDANTIC = "pydantic"
"""typer 0.29 coerces an absent flag (a command's `--help` not given, say) through a pydantic
TypeAdapter: every command but the group's own `--help` imports pydantic, whatever tracekit does."""


OTHER_READERS = (
    "tracekit.readers.nsys.sqlite",
    "tracekit.readers.nsys.json_export",
    "tracekit.readers.nsys.stats_csv",
    "tracekit.readers.ascend.db",
    "tracekit.readers.ascend.summaries",
    "sqlite3",
)
"""What detecting a Kineto trace must not import: the nsys and Ascend readers (their sniffers are light)."""


def _loaded_after(statement: str, modules: tuple[str, ...] = (*HEAVY, TYPER_PYDANTIC)) -> list[str]:
    """Which of `modules` (by default the HEAVY ones and pydantic) are in sys.modules after running
    `statement` in a fresh interpreter."""
    probe = f"import sys; {statement}; print('loaded:', *(m for m in {modules!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return result.stdout.splitlines()[-1].split()[1:]


def _loaded_by_command(args: list[str]) -> list[str]:
    return _loaded_after(f"from tracekit.cli.main import app; app({args!r}, standalone_mode=False)")


def test_importing_the_cli_and_its_help_load_no_heavy_module() -> None:
    assert _loaded_after("import tracekit.cli.main") == []
    assert _loaded_by_command(["--help"]) == []


def test_command_help_version_and_formats_load_only_typer_s_pydantic() -> None:
    commands = [[name, "--help"] for name in ("analyze", "check", "diff", "report", "export", "simulate")]
    for args in [*commands, ["version"], ["formats"]]:
        assert set(_loaded_by_command(args)) <= {TYPER_PYDANTIC}, args


def test_analyze_starts_reading_before_it_imports_the_analyses(tmp_path: Path) -> None:
    """The read starts first; the analyses and reports are imported meanwhile (cli/ranks.py)."""
    later = ranks.NEXT_MODULES
    args = ["analyze", str(SAMPLE), "--json", str(tmp_path / "a.json"), "--no-html"]
    patch = (
        "import tracekit.readers as r; read = r.read_traces; seen = []; "
        f"r.read_traces = lambda *a: (seen.extend(m for m in {later!r} if m in sys.modules), read(*a))[1]"
    )
    run = f"from tracekit.cli.main import app; app({args!r}, standalone_mode=False)"
    probe = f"import sys; {patch}; {run}; print('loaded:', *seen)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "loaded:"
    assert (tmp_path / "a.json").stat().st_size > 0


def test_detecting_a_kineto_trace_imports_no_other_reader() -> None:
    detect = f"r.detect_format(pathlib.Path({str(SAMPLE)!r})).name == 'kineto' or sys.exit(1)"
    assert _loaded_after(f"import pathlib, tracekit.readers as r; {detect}", OTHER_READERS) == []


@pytest.mark.parametrize(
    ("sample", "name"),
    [
        ("nsys/good.sqlite", "nsys"),
        ("nsys_json/good.json", "nsys-json"),
        ("nsys_csv/good_cuda_gpu_trace.csv", "nsys-csv"),
        ("ascend_db/good.db", "ascend"),
        ("ascend_json/good.trace_view.json", "ascend"),
        ("ascend_csv/good/kernel_details.csv", "ascend"),
        ("kineto/good.json", "kineto"),
    ],
)
def test_the_light_sniffers_detect_each_format(sample: str, name: str) -> None:
    assert detect_format(BAD / sample).name == name


def test_the_light_sniffers_detect_a_report_file(tmp_path: Path) -> None:
    report = tmp_path / "run.nsys-rep"
    report.write_bytes(REPORT_MAGIC + bytes(64))
    assert detect_format(report).name == "nsys-rep"


def test_each_reader_names_its_read_function() -> None:
    for reader in READERS:
        module, name = reader.function.split(":")
        assert callable(getattr(importlib.import_module(module), name)), reader.name


def test_analyze_loads_the_report_while_reading_only_when_it_writes_one(tmp_path: Path) -> None:
    """The read's first wait for its workers (simulated here) loads the HTML report's code and
    assets (cli/main.py: parallel.meanwhile); with --no-html nothing is loaded."""

    def loaded_while_reading(*flags: str) -> str:
        args = ["analyze", str(SAMPLE), "--json", str(tmp_path / "a.json"), *flags]
        patch = (
            "import tracekit.readers as r, tracekit.parallel as p; read = r.read_traces; seen = []; "
            "r.read_traces = lambda *a: (p.waiting(), seen.append('plotly' in sys.modules), read(*a))[2]"
        )
        run = f"from tracekit.cli.main import app; app({args!r}, standalone_mode=False)"
        probe = f"import sys; {patch}; {run}; print(*seen)"
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        return result.stdout.splitlines()[-1]

    assert loaded_while_reading("--no-html") == "False"
    assert loaded_while_reading("--html", str(tmp_path / "a.html")) == "True"


def test_the_light_format_table_is_the_readers() -> None:
    assert [(reader.name, reader.description) for reader in READERS] == list(choices.FORMATS)
    assert format_names() == list(choices.FORMAT_NAMES)


def test_formats_lists_every_reader() -> None:
    result = CliRunner().invoke(app, ["formats"], env={"COLUMNS": "200"})
    names = [line.split()[0] for line in result.output.splitlines() if line and not line.startswith(" ")]
    assert names == [reader.name for reader in READERS]


def test_the_light_names_are_the_implementations() -> None:
    assert choices.LANGUAGES == LANGUAGES == RULE_LANGUAGES
    assert choices.MEMORY_BUDGET_ENV == MEMORY_BUDGET_ENV
    assert tuple(export_tables.EVENT_KINDS) == export.EVENT_TABLES
