"""Window and formula of every number tracekit prints (the JSON `definitions` block)."""

from __future__ import annotations

DEFINITIONS: dict[str, str] = {
    "window": "W = [first start, last end] of the device's operations (kernels, copies, memsets, "
    "communication kernels); the same window as nsys and HTA",
    "capture_span": "first start to last end of any event in the trace, host events included",
    "busy_ns": "|union over streams of the device's operations within W|",
    "utilization": "busy_ns / |W|",
    "utilization_sum": "sum of operation durations / |W| (nsys gpu_time_util; can exceed 1 when streams "
    "overlap)",
    "kernel_utilization": "|union of kernels (compute and communication)| / |W|",
    "bubbles": "maximal intervals inside W where the device runs no operation, length >= threshold",
    "bubbles.cause": "sync_wait: a synchronize call (or device-side sync) overlaps the bubble; else "
    "host_wait: the launch call of the operation ending the bubble started after the bubble began; "
    "else other",
    "bubbles.percentiles": "nearest rank: the ceil(p/100 * n)-th smallest bubble",
    "copies.busy_ns": "|union of the direction's copies|",
    "copies.share_of_busy": "copies.busy_ns / busy_ns",
    "copies.exposed_share": "|union of copies minus union of kernels| / |W| (copy time not hidden "
    "under compute)",
    "copies.per_step": "copies inside a step / number of steps",
    "copies.bandwidth_gbps": "sum of bytes / sum of durations over copies with known bytes (GB/s = bytes/ns)",
    "copies.pageable_pinned": "memory kind of the host end: source of H2D, destination of D2H",
    "steps.duration_ns": "host-side ProfilerStep#N span durations; percentiles by nearest rank",
    "hotspots": "kernels grouped by short name (no return type, template arguments or parameters); "
    "share = group total / sum of all kernel durations",
    "launch.delay": "kernel start - (launch call start + launch call duration), clipped at 0",
    "launch.short_kernel_share": "kernels shorter than their own launch call / kernels with a known "
    "launch call",
}
