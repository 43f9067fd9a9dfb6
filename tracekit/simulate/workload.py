"""What the simulator runs: a model's inputs and operators in launch order, and one run's settings."""

from __future__ import annotations

from dataclasses import dataclass

from tracekit.simulate.timeline import Unit


@dataclass(frozen=True)
class Operator:
    """One operator of the model. `work_ns` is core-nanoseconds per sample; `dtype` as msprof names it."""

    name: str
    unit: Unit
    fixed_ns: float
    work_ns: float
    dynamic: bool = False
    dtype: str = "FLOAT16"


@dataclass(frozen=True)
class Input:
    """One model input: bytes per sample, and the group it is batched with under batch H2D."""

    name: str
    bytes_per_sample: int
    group: str


@dataclass(frozen=True)
class Workload:
    """A model: its inputs, operators in launch order, and its output size."""

    name: str
    inputs: tuple[Input, ...]
    operators: tuple[Operator, ...]
    output_bytes_per_sample: int


@dataclass(frozen=True)
class Run:
    """One run: how many inferences, batch size, instances, core limit, batch H2D, seed."""

    inferences: int
    batch: int
    instances: int = 1
    aicore: tuple[int, int] | None = None  # (cube, vector) cores per operator: ge.aicoreNum
    batch_h2d: bool = False
    seed: int = 0
