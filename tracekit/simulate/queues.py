"""The device's queues: tasks, pools of identical units taken in FIFO order, and in-order streams."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field

from tracekit.simulate.machine import Device
from tracekit.simulate.timeline import RecordKind, Unit
from tracekit.simulate.workload import Run


@dataclass(eq=False)
class Task:
    """A device task waiting for, or holding, its resource."""

    kind: RecordKind
    name: str
    unit: Unit
    need: int
    base_ns: float
    instance: int
    correlation: int
    step: int
    nbytes: int = -1
    dynamic: bool = False
    done: bool = False
    waiter: Generator | None = None


@dataclass(eq=False)
class Pool:
    """Identical units (cores or copy engines) taken whole by tasks in FIFO order."""

    free: int
    waiting: deque = field(default_factory=deque)


@dataclass(eq=False)
class Stream:
    """One instance's stream: its tasks run in order, one at a time."""

    queue: deque = field(default_factory=deque)
    busy: bool = False


def pools(device: Device) -> dict[Unit, Pool]:
    """One pool per unit: the cube, vector and AI CPU cores, and the copy engines of each direction."""
    return {
        Unit.CUBE: Pool(device.cube_cores),
        Unit.VECTOR: Pool(device.vector_cores),
        Unit.AICPU: Pool(device.aicpu_cores),
        Unit.H2D: Pool(device.copy_engines),
        Unit.D2H: Pool(device.copy_engines),
    }


def core_needs(device: Device, run: Run) -> dict[Unit, int]:
    """Cores one operator takes: all of its pool, or the ge.aicoreNum-style limit."""
    cube, vector = run.aicore or (device.cube_cores, device.vector_cores)
    return {
        Unit.CUBE: min(cube, device.cube_cores),
        Unit.VECTOR: min(vector, device.vector_cores),
        Unit.AICPU: 1,
    }
