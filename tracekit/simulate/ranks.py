"""Multi-rank scenarios: ranks that compute and meet in collectives, with their known truth.

A scenario file with a `[ranks]` table (`scenarios/*.toml`) describes one. Kinds:

- `tensor_parallel`: every step runs `layers` layers on each rank: a GEMM of `compute_us` (plus
  `extra_us[rank]`: a slow rank), then an all-reduce of `nelems` float32 elements that ends
  `transfer_us` after the last rank arrives. A rank that arrives early waits inside its collective
  kernel (NCCL's kernels spin), so its all-reduce lasts wait + transfer.
- `pipeline`: two stages on two ranks; every step pushes `microbatches` micro-batches through:
  rank 0 computes stage 0 (`stage_us[0]`) then sends the activations (`nelems` float32), rank 1
  receives them, then computes stage 1 (`stage_us[1]`). Send and receive end together,
  `transfer_us` after both sides are there.

Host side, per rank and step: one thread launches every kernel back to back (`launch_us` each),
then synchronizes; the step (`ProfilerStep#N`) ends `sync_us` after the device drains and the
next step starts. Every rank is its process's device 0. No noise: times are exact to the ns, so
the `[truth]` table of the file holds to the nanosecond; `truth()` computes it from the timeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tracekit.simulate.machine import FIRST_STREAM, Device
from tracekit.simulate.scenarios import SCENARIO_DIR, document, scenario_files
from tracekit.simulate.timeline import Api, Record, RecordKind, Unit
from tracekit.simulate.workload import Operator, Workload

ELEMENT_BYTES = 4  # float32 messages
COMPUTE_STREAM, COMM_STREAM = FIRST_STREAM, FIRST_STREAM + 1
SUBMIT_NS = 2_000  # from the end of a launch call until the device sees the kernel


@dataclass(frozen=True)
class RankScenario:
    """One multi-rank scenario: its program parameters (ns) and the truth its file states."""

    name: str
    description: str
    kind: str
    ranks: int
    steps: int
    device: Device
    compute_ns: int = 0
    extra_ns: tuple[int, ...] = ()
    layers: int = 0
    stages_ns: tuple[int, ...] = ()
    microbatches: int = 0
    nelems: int = 0
    transfer_ns: int = 0
    launch_ns: int = 5_000
    sync_ns: int = 10_000
    truth: dict = field(default_factory=dict)

    def workload(self) -> Workload:
        """The compute kernels as simulator operators (the msprof op_summary needs them)."""
        names = sorted({op.name for rank in range(self.ranks) for op in _ops(self, rank, 1)[0] if op.compute})
        operators = tuple(Operator(name, Unit.CUBE, 0.0, 0.0, dtype="FLOAT") for name in names)
        return Workload(self.name, (), operators, 0)


@dataclass(frozen=True)
class _Op:
    """One kernel of a rank's program: compute (`dur_ns`) or its part of collective `key`."""

    name: str
    compute: bool
    dur_ns: int = 0
    key: tuple = ()


def rank_scenario_names() -> list[str]:
    """Names of the multi-rank scenarios, in file order."""
    return [path.stem for path in scenario_files() if "ranks" in document(path)]


def load_ranks(name: str) -> RankScenario:
    """The multi-rank scenario `name`; KeyError with the choices if there is none."""
    path = SCENARIO_DIR / f"{name}.toml"
    if name not in rank_scenario_names():
        choices = ", ".join(rank_scenario_names())
        raise KeyError(f"unknown multi-rank scenario {name!r}; choose one of {choices}")
    return _scenario(name, document(path))


def _scenario(name: str, doc: dict) -> RankScenario:
    table = doc["ranks"]
    ranks = int(table["ranks"])
    return RankScenario(
        name=name,
        description=doc["description"],
        kind=table["kind"],
        ranks=ranks,
        steps=int(table["steps"]),
        device=_device(table["device"]),
        compute_ns=_ns(table.get("compute_us", 0)),
        extra_ns=tuple(_ns(us) for us in table.get("extra_us", [0] * ranks)),
        layers=int(table.get("layers", 0)),
        stages_ns=tuple(_ns(us) for us in table.get("stage_us", ())),
        microbatches=int(table.get("microbatches", 0)),
        nelems=int(table["nelems"]),
        transfer_ns=_ns(table["transfer_us"]),
        launch_ns=_ns(table.get("launch_us", 5)),
        sync_ns=_ns(table.get("sync_us", 10)),
        truth=dict(doc.get("truth", {})),
    )


def _device(name: str) -> Device:
    """A device for the emitters' headers: its name and core counts, nothing timed."""
    return Device(name, 108, 0, 0, 1, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0)


def _ns(us: float) -> int:
    return round(float(us) * 1000)


# --- the programs ------------------------------------------------------------------------------------


def _ops(scenario: RankScenario, rank: int, steps: int) -> list[list[_Op]]:
    """Each step's kernels of `rank`, in launch order."""
    build = _tensor_parallel if scenario.kind == "tensor_parallel" else _pipeline
    return [list(build(scenario, rank, step)) for step in range(1, steps + 1)]


def _tensor_parallel(s: RankScenario, rank: int, step: int) -> Iterator[_Op]:
    for layer in range(s.layers):
        yield _Op("gemm_tp_layer", True, s.compute_ns + s.extra_ns[rank])
        yield _Op("allreduce", False, key=(step, layer))


def _pipeline(s: RankScenario, rank: int, step: int) -> Iterator[_Op]:
    for micro in range(s.microbatches):
        if rank == 0:
            yield _Op("gemm_stage0", True, s.stages_ns[0])
            yield _Op("send", False, key=(step, micro))
        else:
            yield _Op("recv", False, key=(step, micro))
            yield _Op("gemm_stage1", True, s.stages_ns[1])


# --- the timeline ------------------------------------------------------------------------------------


@dataclass
class _Rank:
    """Where one rank's program stands."""

    steps: list[list[_Op]]
    step: int = 0
    index: int = 0
    host_ns: int = 0  # start of the current step on the host
    device_ns: int = 0  # end of the rank's last kernel
    records: list[Record] = field(default_factory=list)


def simulate_ranks(scenario: RankScenario) -> list[list[Record]]:
    """Every rank's records (steps, launch and sync calls, kernels, collectives), by rank."""
    ranks = [_Rank(_ops(scenario, rank, scenario.steps)) for rank in range(scenario.ranks)]
    arrivals: dict[tuple, dict[int, int]] = {}
    ends: dict[tuple, int] = {}
    while any(_advance(scenario, number, rank, arrivals, ends) for number, rank in enumerate(ranks)):
        pass
    if any(rank.step < len(rank.steps) for rank in ranks):
        raise ValueError(f"{scenario.name}: the ranks' collectives do not match")
    return [sorted(rank.records, key=lambda r: (r.start_ns, r.kind)) for rank in ranks]


def _advance(s: RankScenario, number: int, rank: _Rank, arrivals: dict, ends: dict) -> bool:
    """Run `rank` until it waits for a collective the others have not reached; True if it moved."""
    moved = False
    while rank.step < len(rank.steps):
        ops = rank.steps[rank.step]
        op = ops[rank.index]
        launched = rank.host_ns + (rank.index + 1) * s.launch_ns + SUBMIT_NS
        ready = max(rank.device_ns, launched)
        if not op.compute:
            arrived = arrivals.setdefault(op.key, {})
            arrived.setdefault(number, ready)
            if op.key not in ends:
                if len(arrived) < _group(s):
                    return moved
                ends[op.key] = max(arrived.values()) + s.transfer_ns
            ready = arrived[number]
        end = ready + op.dur_ns if op.compute else ends[op.key]
        rank.records.append(_kernel(s, rank, op, ready, end))
        rank.device_ns, rank.index, moved = end, rank.index + 1, True
        if rank.index == len(ops):
            _close_step(s, rank)
    return moved


def _group(s: RankScenario) -> int:
    return s.ranks if s.kind == "tensor_parallel" else 2


def _kernel(s: RankScenario, rank: _Rank, op: _Op, start: int, end: int) -> Record:
    step, correlation = rank.step + 1, _correlation(rank)
    if op.compute:
        return Record(RecordKind.OP, op.name, start, end - start, 0, COMPUTE_STREAM, correlation, step,
                      unit=Unit.CUBE, cores=108)  # fmt: skip
    return Record(RecordKind.COLLECTIVE, op.name, start, end - start, 0, COMM_STREAM, correlation, step,
                  nbytes=s.nelems * ELEMENT_BYTES, group_size=_group(s))  # fmt: skip


def _correlation(rank: _Rank) -> int:
    return sum(len(ops) for ops in rank.steps[: rank.step]) + rank.index + 1


def _close_step(s: RankScenario, rank: _Rank) -> None:
    """The step's host records: its launches, the synchronize, the ProfilerStep range."""
    ops = rank.steps[rank.step]
    step, first = rank.step + 1, _correlation(rank) - len(ops)
    for i in range(len(ops)):
        start = rank.host_ns + i * s.launch_ns
        rank.records.append(Record(RecordKind.API, "", start, s.launch_ns, 0, COMPUTE_STREAM, first + i, step,
                                   api=Api.LAUNCH))  # fmt: skip
    sync_start = rank.host_ns + len(ops) * s.launch_ns
    end = max(rank.device_ns, sync_start) + s.sync_ns
    rank.records.append(Record(RecordKind.API, "", sync_start, end - sync_start, 0, COMPUTE_STREAM, -1, step,
                               api=Api.SYNCHRONIZE))  # fmt: skip
    rank.records.append(Record(RecordKind.STEP, "", rank.host_ns, end - rank.host_ns, 0, 0, -1, step))
    rank.step, rank.index, rank.host_ns = rank.step + 1, 0, end


# --- the truth ---------------------------------------------------------------------------------------


def truth(records: list[list[Record]]) -> list[dict[str, int]]:
    """Per rank: compute and collective kernel time, the time it waited in collectives for the
    last rank, collectives and their bytes, and the median step (ns)."""
    return [_rank_truth(rank, records) for rank in range(len(records))]


def _rank_truth(rank: int, records: list[list[Record]]) -> dict[str, int]:
    mine = records[rank]
    collectives = [r for r in mine if r.kind == RecordKind.COLLECTIVE]
    steps = sorted(r.dur_ns for r in mine if r.kind == RecordKind.STEP)
    return {
        "compute_ns": sum(r.dur_ns for r in mine if r.kind == RecordKind.OP),
        "collective_ns": sum(r.dur_ns for r in collectives),
        "wait_ns": sum(_wait(r, records) for r in collectives),
        "collectives": len(collectives),
        "collective_bytes": sum(r.nbytes for r in collectives),
        "step_p50_ns": steps[len(steps) // 2],
    }


def _wait(record: Record, records: list[list[Record]]) -> int:
    """How long the rank waited in this collective: the latest peer's arrival minus its own."""
    peers = [r for rank in records for r in rank if r.kind == RecordKind.COLLECTIVE and r.step == record.step
             and r.start_ns + r.dur_ns == record.start_ns + record.dur_ns]  # fmt: skip
    return max(r.start_ns for r in peers) - record.start_ns


def rank_file(output: Path, rank: int, suffix: str) -> Path:
    """Where rank `rank`'s trace goes in the output folder."""
    return output / f"rank{rank}{suffix}"
