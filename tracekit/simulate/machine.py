"""The simulated machine: the host's call costs and the accelerator's pools, copy engines and dispatch."""

from __future__ import annotations

from dataclasses import dataclass

FIRST_STREAM = 2  # stream id of instance 0 (msprof numbers physical streams from small integers)


@dataclass(frozen=True)
class Host:
    """Host-side costs, in ns."""

    launch_ns: float  # one operator launch call
    copy_ns: float  # one copy call (also the base of a batched copy call)
    batch_entry_ns: float  # each input of a batched copy call, on top of launch_ns
    sync_ns: float  # returning from a synchronize once the stream has drained (no lock needed)
    prep_ns: float  # per inference, before its first call (outside the latency)
    prep_per_sample_ns: float  # per sample of the batch, on top of prep_ns
    shape_ns: float  # shape inference after a dynamic-shape operator ends
    submit_ns: float  # from the end of a call until the device sees the task
    stage_bytes_per_ns: float  # staging pageable inputs into pinned memory (no lock needed), = GB/s
    shared_lock: bool  # calls and preparation of all instances serialise
    lock_quantum_ns: float  # longest a thread keeps the shared lock while others wait


@dataclass(frozen=True)
class Device:
    """The accelerator: core pools, copy engines and dispatch cost."""

    name: str
    cube_cores: int
    vector_cores: int
    aicpu_cores: int
    copy_engines: int  # per direction
    copy_fixed_ns: float  # per copy, whatever its size
    h2d_bytes_per_ns: float  # = GB/s
    d2h_bytes_per_ns: float
    dispatch_ns: float  # operator dispatch after its predecessor on the stream ended
    redispatch_ns: float  # an operator that had to wait for cores is dispatched again when they free
    noise: float  # sigma of the lognormal noise on every duration
