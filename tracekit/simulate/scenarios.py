"""Scenarios: workloads, devices and run settings as data files (`scenarios/*.toml`).

A file describes one case study: `description`, `[device]`, `[host]`, `[workload]` with its
`[[workload.inputs]]` and `[[workload.operators]]`, a base `[run]`, and optional
`[variants.NAME]` tables that override the run (and carry their own description; `host` and
`device` sub-tables override those settings). The base is
named after the file (`case000`), variants `case000/NAME`. `[[published]]` rows, where present, are
the measurements the case reports, kept beside the model only to compare against. Files with a
`[ranks]` table are multi-rank scenarios (`ranks.py`), not listed here.
Times in the files are µs; the model works in ns.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tracekit.simulate.machine import Device, Host
from tracekit.simulate.timeline import Unit
from tracekit.simulate.workload import Input, Operator, Run, Workload

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
_UNITS = {"cube": Unit.CUBE, "vector": Unit.VECTOR, "aicpu": Unit.AICPU}
_RUN_KEYS = {"inferences", "batch", "instances", "aicore", "batch_h2d", "seed"}


@dataclass(frozen=True)
class Published:
    """One measurement the case study reports for a variant and batch size."""

    variant: str
    batch: int
    throughput: float  # samples per second
    latency_ms: float


@dataclass(frozen=True)
class Scenario:
    """Everything one simulation needs, plus the case's published numbers."""

    name: str
    description: str
    workload: Workload
    host: Host
    device: Device
    run: Run
    published: tuple[Published, ...] = ()


def scenario_names() -> list[str]:
    """Every scenario name, base before its variants, files in name order."""
    return [name for path in _files() for name in _document_names(path.stem, document(path))]


def describe_all() -> list[tuple[str, str]]:
    """(name, one-line description) of every scenario."""
    return [(name, load(name).description) for name in scenario_names()]


def load(name: str) -> Scenario:
    """The scenario called `name` (`case000` or `case000/VARIANT`); KeyError with the choices if unknown."""
    base, _, variant = name.partition("/")
    path = SCENARIO_DIR / f"{base}.toml"
    if path not in _files() or (variant and variant not in document(path).get("variants", {})):
        raise KeyError(f"unknown scenario {name!r}; choose one of {', '.join(scenario_names())}")
    return _scenario(name, document(path), variant)


def with_run(scenario: Scenario, **changes: object) -> Scenario:
    """The scenario with some run settings replaced (None values are ignored)."""
    kept = {key: value for key, value in changes.items() if value is not None}
    unknown = set(kept) - _RUN_KEYS
    if unknown:
        raise ValueError(f"not run settings: {', '.join(sorted(unknown))}")
    return dataclasses.replace(scenario, run=dataclasses.replace(scenario.run, **kept))


def parse_aicore(text: str) -> tuple[int, int]:
    """`"16|16"` (cube|vector cores per operator, as ge.aicoreNum) as a pair; ValueError otherwise."""
    cube, bar, vector = text.partition("|")
    if not bar or not cube.strip().isdigit() or not vector.strip().isdigit():
        raise ValueError(f"aicore {text!r} must look like CUBE|VECTOR, e.g. 16|16")
    return int(cube), int(vector)


# --- reading the files -----------------------------------------------------------------------------


def scenario_files() -> list[Path]:
    """Every scenario file, single-device and multi-rank, in name order."""
    return sorted(SCENARIO_DIR.glob("*.toml"))


@cache
def document(path: Path) -> dict:
    """The parsed scenario file."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _files() -> list[Path]:
    return [path for path in scenario_files() if "ranks" not in document(path)]


def _document_names(base: str, document: dict) -> list[str]:
    return [base, *(f"{base}/{variant}" for variant in document.get("variants", {}))]


def _scenario(name: str, document: dict, variant: str) -> Scenario:
    run_table, host, device = dict(document["run"]), dict(document["host"]), dict(document["device"])
    description = document["description"]
    if variant:
        overrides = dict(document["variants"][variant])
        description = overrides.pop("description")
        host.update(overrides.pop("host", {}))
        device.update(overrides.pop("device", {}))
        run_table.update(overrides)
    published = tuple(Published(**row) for row in document.get("published", ()))
    return Scenario(
        name=name,
        description=description,
        workload=_workload(document["workload"]),
        host=_host(host),
        device=_device(device),
        run=_run(run_table),
        published=published,
    )


def _run(table: dict) -> Run:
    aicore = table.get("aicore")
    return Run(
        inferences=int(table["inferences"]),
        batch=int(table["batch"]),
        instances=int(table.get("instances", 1)),
        aicore=parse_aicore(aicore) if aicore else None,
        batch_h2d=bool(table.get("batch_h2d", False)),
        seed=int(table.get("seed", 0)),
    )


def _host(table: dict) -> Host:
    return Host(
        launch_ns=_ns(table["launch_us"]),
        copy_ns=_ns(table["copy_us"]),
        batch_entry_ns=_ns(table["batch_entry_us"]),
        sync_ns=_ns(table["sync_us"]),
        prep_ns=_ns(table["prep_us"]),
        prep_per_sample_ns=_ns(table["prep_per_sample_us"]),
        shape_ns=_ns(table.get("shape_us", 0)),
        submit_ns=_ns(table["submit_us"]),
        stage_bytes_per_ns=float(table["stage_gbps"]),
        shared_lock=bool(table["shared_lock"]),
        lock_quantum_ns=_ns(table.get("lock_quantum_us", 0)),
    )


def _device(table: dict) -> Device:
    return Device(
        name=table["name"],
        cube_cores=int(table["cube_cores"]),
        vector_cores=int(table["vector_cores"]),
        aicpu_cores=int(table["aicpu_cores"]),
        copy_engines=int(table["copy_engines"]),
        copy_fixed_ns=_ns(table["copy_fixed_us"]),
        h2d_bytes_per_ns=float(table["h2d_gbps"]),
        d2h_bytes_per_ns=float(table["d2h_gbps"]),
        dispatch_ns=_ns(table["dispatch_us"]),
        redispatch_ns=_ns(table["redispatch_us"]),
        noise=float(table["noise"]),
    )


def _workload(table: dict) -> Workload:
    inputs = tuple(
        Input(name, int(row["bytes_per_sample"]), row["group"])
        for row in table["inputs"]
        for name in _expand(row)
    )
    operators = tuple(
        Operator(
            name, _UNITS[row["unit"]], _ns(row["fixed_us"]), _ns(row["work_us"]),
            bool(row.get("dynamic", False)), row.get("dtype", "FLOAT16"),
        )
        for row in table["operators"]
        for name in _expand(row)
    )  # fmt: skip
    return Workload(table["name"], inputs, operators, int(table["output_bytes_per_sample"]))


def _expand(row: dict) -> list[str]:
    """`count` copies of a row: names suffixed _0, _1, ... (a count of 1 keeps the name)."""
    count = int(row.get("count", 1))
    return [row["name"]] if count == 1 else [f"{row['name']}_{i}" for i in range(count)]


def _ns(us: float) -> float:
    return float(us) * 1000.0
