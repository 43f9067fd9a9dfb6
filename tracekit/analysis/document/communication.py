"""A device's communication block (docs/metrics.md, Communication)."""

from __future__ import annotations

from tracekit.analysis.document.base import Block


class Split(Block, kw_only=True):
    window_ns: int
    compute_ns: int
    communication_ns: int
    copies_ns: int
    idle_ns: int


class Collective(Block, kw_only=True):
    type: str
    count: int
    total_ns: int
    busy_ns: int
    bytes: int
    bytes_unknown_count: int
    algbw_gbps: float | None
    busbw_gbps: float | None


class Instances(Block, kw_only=True):
    """The device's collectives one by one (columns), for matching across ranks."""

    total: int
    type: list[str]
    step: list[int]
    sequence: list[int]
    start_ns: list[int]
    end_ns: list[int]
    bytes: list[int]


class Link(Block, kw_only=True):
    link: str
    bytes: int
    transit_ns: int
    bandwidth_gbps: float | None


class ProfilerType(Block, kw_only=True):
    type: str
    count: int
    elapse_ns: int
    transit_ns: int
    wait_ns: int
    synchronization_ns: int
    idle_ns: int
    wait_ratio: float | None
    synchronization_ratio: float | None
    links: list[Link]


class OpTimes(Block, kw_only=True):
    elapse_ns: int
    transit_ns: int
    wait_ns: int
    synchronization_ns: int
    idle_ns: int


class ProfilerCommunication(Block, kw_only=True):
    """msprof's communication.json summed per collective type."""

    source: str
    operations: int
    steps: list[str]
    by_type: list[ProfilerType]
    total_op_info: OpTimes


class Communication(Block, kw_only=True):
    split: Split
    communication_ns: int
    overlap_ns: int
    overlap_ratio: float | None
    exposed_ns: int
    exposed_share: float | None
    collectives: list[Collective]
    instances: Instances
    profiler: ProfilerCommunication | None = None
