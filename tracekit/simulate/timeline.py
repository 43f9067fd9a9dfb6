"""The simulated timeline as plain records, independent of any trace format.

The device model (`device.py`) produces `Record`s in the order their start times become known;
emitters (`emit_*.py`) turn them into one format each. Times are integer nanoseconds from the
start of the simulation.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import NamedTuple

import numpy as np

PREP_NAME = "preprocess"  # how the emitters name a PREP record (a record_function range in PyTorch)


class RecordKind(IntEnum):
    """What a record is."""

    OP = 0  # a compute operator on the device (AI Core / vector / AI CPU)
    COPY = 1  # a memory copy on the device's copy engine
    API = 2  # a host runtime call (launch, copy, synchronize)
    STEP = 3  # one inference of one instance, on its host thread
    COLLECTIVE = 4  # one rank's part of a collective or point-to-point transfer (ranks.py)
    PREP = 5  # an inference's input preparation on its host thread (annotated, as record_function)


class Api(IntEnum):
    """The host call behind an API record; emitters name it in their format's words."""

    LAUNCH = 0  # launch one operator
    MEMCPY = 1  # one asynchronous copy
    MEMCPY_BATCH = 2  # one batched copy of several inputs (aclrtMemcpyBatch)
    SYNCHRONIZE = 3  # wait for the stream to drain


class Unit(IntEnum):
    """Where a device record ran."""

    NONE = 0
    CUBE = 1  # AI Core cube units (matrix); SMs on a GPU
    VECTOR = 2  # AI Core vector units
    AICPU = 3  # the device's AI CPU
    H2D = 4  # copy engine, host to device
    D2H = 5  # copy engine, device to host


class Record(NamedTuple):
    """One timed event of the simulation.

    `name`: operator name for OP, input group for COPY, "" otherwise. `api`: the Api code of API
    records. `cores`: cores an operator used (its block dim). `dynamic`: an operator whose output
    shape the host had to wait for. `step`: the global inference number (1-based), shared by the
    step, its API calls and their device work. `correlation` links an API call to its device work.
    COLLECTIVE records: `name` is the collective (`allreduce`, `send`, `recv`), `nbytes` its message
    (float32 elements x 4), `group_size` the ranks taking part.
    """

    kind: RecordKind
    name: str
    start_ns: int
    dur_ns: int
    instance: int
    stream: int
    correlation: int
    step: int
    nbytes: int = -1
    unit: Unit = Unit.NONE
    api: int = -1
    cores: int = 0
    dynamic: bool = False
    group_size: int = 0


def to_arrays(records: Iterable[Record]) -> dict[str, np.ndarray]:
    """Columns of the records as numpy arrays (names as an object array), for tests and analysis."""
    rows = list(records)
    columns: dict[str, np.ndarray] = {}
    for i, field in enumerate(Record._fields):
        values = [row[i] for row in rows]
        columns[field] = np.array(values, dtype=object if field == "name" else np.int64)
    return columns
