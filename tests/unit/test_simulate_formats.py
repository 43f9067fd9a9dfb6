"""The emitters: byte-identical per seed, readable by tracekit, and the same metrics in every format."""

from __future__ import annotations

import csv
import gzip
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracekit.analysis.analyze import analyze
from tracekit.cli.main import app
from tracekit.readers import format_names, read_trace
from tracekit.simulate.device import Simulation
from tracekit.simulate.emit_kineto import write_kineto
from tracekit.simulate.emit_msprof import MsprofRun, write_msprof
from tracekit.simulate.emit_nsys import write_nsys
from tracekit.simulate.scenarios import Scenario, load, with_run

READER_OF = {"kineto": "kineto", "msprof": "ascend", "nsys": "nsys"}


def _scenario(name: str = "case000/multi4-aicore", seed: int = 0) -> Scenario:
    return with_run(load(name), inferences=16, seed=seed)


def _emit(kind: str, folder: Path, scenario: Scenario) -> Path:
    records = Simulation(scenario.workload, scenario.host, scenario.device, scenario.run).records()
    run = scenario.run
    if kind == "kineto":
        path = folder / "trace.pt.trace.json.gz"
        write_kineto(path, records, scenario.device, run.instances, batch_h2d=run.batch_h2d, gz=True)
        return path
    if kind == "nsys":
        path = folder / "trace.sqlite"
        write_nsys(path, records, scenario.device, run.instances, batch_h2d=run.batch_h2d)
        return path
    return write_msprof(
        folder, records, MsprofRun(scenario.device, scenario.workload, run.batch, run.instances, run.seed)
    )


def _files(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("kind", ["kineto", "msprof", "nsys"])
def test_same_seed_gives_identical_bytes(kind: str, tmp_path: Path) -> None:
    first = _files(_emit(kind, tmp_path / "a", _scenario()))
    again = _files(_emit(kind, tmp_path / "b", _scenario()))
    other = _files(_emit(kind, tmp_path / "c", _scenario(seed=1)))
    assert first == again
    assert first != other


def test_kineto_trace_has_kineto_shape(tmp_path: Path) -> None:
    document = json.loads(gzip.decompress(_emit("kineto", tmp_path, _scenario()).read_bytes()))
    events = document["traceEvents"]
    assert document["schemaVersion"] == 1
    categories = {e.get("cat") for e in events}
    assert {"kernel", "gpu_memcpy", "cuda_runtime", "user_annotation"} <= categories
    copies = [e for e in events if e.get("cat") == "gpu_memcpy"]
    assert all(e["args"]["bytes"] > 0 and "correlation" in e["args"] for e in copies)
    assert sum(e["name"].startswith("Memcpy HtoD (Pageable -> Device)") for e in copies) == 16 * 28


def test_msprof_tree_follows_the_msprof_layout(tmp_path: Path) -> None:
    root = _emit("msprof", tmp_path, _scenario())
    output = root / "mindstudio_profiler_output"
    (timeline,) = output.glob("msprof_*.json")
    (summary,) = output.glob("op_summary_*.csv")
    events = json.loads(timeline.read_text())
    names = {e["args"]["name"] for e in events if e.get("name") == "process_name"}
    assert {"CANN", "Ascend Hardware"} <= names
    tasks = [e for e in events if e.get("ph") == "X" and e["name"] == "MEMCPY_ASYNC"]
    assert tasks and all(isinstance(e["ts"], str) and e["args"]["Task Type"] == "PCIE_DMA_SQE" for e in tasks)
    flows = {e["id"] for e in events if e.get("cat") == "HostToDevice" and e["ph"] == "s"}
    assert {str(e["args"]["connection_id"]) for e in tasks} <= flows
    rows = list(csv.DictReader(summary.open()))
    assert len(rows) == 16 * 53 and rows[0]["Task Start Time(us)"].endswith("\t")
    assert {row["Block Num"] for row in rows} == {"16"}


def test_nsys_export_has_the_core_tables(tmp_path: Path) -> None:
    db = sqlite3.connect(_emit("nsys", tmp_path, _scenario()))
    tables = ("CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_MEMCPY", "NVTX_EVENTS")
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    assert counts == {
        "CUPTI_ACTIVITY_KIND_KERNEL": 16 * 53,
        "CUPTI_ACTIVITY_KIND_MEMCPY": 16 * 29,
        "NVTX_EVENTS": 16 * 2,  # ProfilerStep#N and the inference's "preprocess" range
    }
    (h2d,) = db.execute(
        "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_MEMCPY WHERE copyKind = 1 AND srcKind = 0"
    ).fetchone()
    assert h2d == 16 * 28


def _metrics(path: Path) -> dict:
    document = analyze(read_trace(path))
    device = document.devices[0]
    copy_keys = ("count", "per_step", "bytes", "busy_ns", "exposed_ns")
    causes = device.bubbles.by_cause
    return {
        "steps": document.steps.count,
        "step_durations": document.steps.duration_ns,
        "utilization": {
            k: getattr(device, k) for k in ("operations", "window_ns", "busy_ns", "kernel_busy_ns")
        },
        "bubbles": {k: getattr(device.bubbles, k) for k in ("count", "total_ns", "p50_ns", "max_ns")},
        "causes": {k: getattr(causes, k).count for k in causes.__struct_fields__},
        "h2d": {k: getattr(device.h2d, k) for k in copy_keys},
        "d2h": {k: getattr(device.d2h, k) for k in copy_keys},
        "launch": device.launch,
    }


@pytest.mark.parametrize("kind", ["msprof", "nsys"])
def test_every_format_gives_the_same_metrics(kind: str, tmp_path: Path) -> None:
    """Exact: the emitters write integer ns (µs with three decimals), so nothing is rounded away.

    Not compared: pageable vs pinned counts (msprof does not record the host memory kind).
    """
    if READER_OF[kind] not in format_names():
        pytest.skip(f"the {READER_OF[kind]} reader is not registered yet")
    scenario = _scenario("case000/multi4-aicore-batch-h2d")
    reference = _metrics(_emit("kineto", tmp_path / "kineto", scenario))
    assert _metrics(_emit(kind, tmp_path / kind, scenario)) == reference


def test_cli_lists_scenarios_and_writes_a_trace(tmp_path: Path) -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["simulate", "--list"])
    assert listing.exit_code == 0
    assert {"case000", "case000/optimized", "case001", "case002", "case003"} <= {
        line.split()[0] for line in listing.output.splitlines()
    }
    out = tmp_path / "t.json.gz"
    result = runner.invoke(
        app, ["simulate", "case000", "--inferences", "3", "--batch", "64", "--instances", "2",
              "--aicore", "8|8", "--batch-h2d", "--seed", "5", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    device = analyze(read_trace(out)).devices[0]
    assert device.h2d.count == 3 * 2
    assert device.h2d.pinned_count == 6
    assert device.operations == 3 * (53 + 2 + 1)  # operators, batched H2D groups, output copy


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nope", "-o", "x.json"], "unknown scenario"),
        (["case000", "--aicore", "16", "-o", "x.json"], "CUBE|VECTOR"),
        (["case000"], "-o PATH"),
    ],
)
def test_cli_refuses_bad_input(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["simulate", *arguments])
    assert result.exit_code != 0
    assert message in result.output


def test_committed_sample_trace_is_what_its_readme_command_writes(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "sample_traces" / "sim_case000_optimized.pt.trace.json.gz"
    out = tmp_path / sample.name
    command = ["simulate", "case000/optimized", "--inferences", "60", "--seed", "0", "-o", str(out)]
    assert CliRunner().invoke(app, command).exit_code == 0
    assert out.read_bytes() == sample.read_bytes()
