"""Window and formula of every number tracekit prints (the JSON `definitions` block). The reports
show these texts (in Chinese through tracekit/report/formulas.py), keyed as here."""

from __future__ import annotations

SPLIT_PARTS: dict[str, str] = {
    "compute": "|union of compute kernels|",
    "communication": "|union of communication kernels minus compute|",
    "copies": "|union of copies and memsets minus compute and communication|",
    "idle": "|W| minus the three (no operation runs)",
}
_CAUSES = {
    "sync_wait": "a synchronize call (or device-side sync) overlaps the bubble",
    "host_wait": "the launch call of the operation ending the bubble started after the bubble began",
}
_HOTSPOT_SHARE = "group total / sum of all kernel durations"
_ALGBW = "sum bytes / sum durations over sized kernels (bytes/ns = GB/s)"
_BUSBW = (
    "sum(bytes x factor) / sum durations with nccl-tests' factor over n = group size: all-reduce "
    "2(n-1)/n; all-gather, reduce-scatter, all-to-all (n-1)/n; broadcast, send/recv 1"
)
_WAIT_RATIO = "wait / (wait + transit)"

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
    "bubbles.cause": f"sync_wait: {_CAUSES['sync_wait']}; else host_wait: {_CAUSES['host_wait']}; else other",
    "bubbles.cause.sync_wait": _CAUSES["sync_wait"],
    "bubbles.cause.host_wait": _CAUSES["host_wait"],
    "bubbles.cause.other": "neither of the two",
    "bubbles.percentiles": "nearest rank: the ceil(p/100 * n)-th smallest bubble",
    "copies.busy_ns": "|union of the direction's copies|",
    "copies.share_of_busy": "copies.busy_ns / busy_ns",
    "copies.exposed_share": "|union of copies minus union of kernels| / |W| (copy time not hidden "
    "under compute)",
    "copies.per_step": "copies inside a step / number of steps",
    "copies.bandwidth_gbps": "sum of bytes / sum of durations over copies with known bytes (GB/s = bytes/ns)",
    "copies.sizes": "sizes of the direction's copies with known bytes: count, total, mean, min, median (mean "
    "of the two middle values), max, sample standard deviation",
    "copies.pageable_pinned": "memory kind of the host end: source of H2D, destination of D2H",
    "communication.split": "W split exclusively, each instant counted once in priority order compute > "
    "communication > copies > idle: "
    + ", ".join(f"{part}_ns = {text}" for part, text in SPLIT_PARTS.items())
    + "; they sum to |W|",
    **{f"communication.split.{part}": text for part, text in SPLIT_PARTS.items()},
    "communication.communication_ns": "|union of the device's communication kernels (NCCL, HCCL ops)| in W",
    "communication.overlap_ratio": "overlap_ns / communication_ns, overlap_ns = |union of communication "
    "intersected with union of compute kernels| (HTA comm/comp overlap)",
    "communication.exposed_ns": "|union of communication minus union of compute| (msprof 'Communication "
    "(Not Overlapped)'); exposed_share = exposed_ns / |W|",
    "communication.collectives": "communication kernels by type (Collective name arg, else the c10d/nccl "
    "operator or NCCL NVTX range that launched it, else the kernel or op name): count, total_ns (sum of "
    f"durations), busy_ns (union), bytes (max(in, out) message), algbw_gbps = {_ALGBW}, "
    f"busbw_gbps = {_BUSBW}",
    "communication.algbw_gbps": _ALGBW,
    "communication.busbw_gbps": _BUSBW,
    "communication.instances": "the first 2000 collectives by start: type, step, sequence (0, 1, ... among "
    "the step's collectives of that type, in start order), start_ns, end_ns, bytes",
    "communication.profiler": "Ascend only, from msprof's communication.json (its own numbers, summed over "
    "its steps and operators of each type): elapse_ns = transit_ns + wait_ns + idle_ns per operator, "
    "transit = data moving, wait = waiting for the peer ranks (synchronization_ns: the part of the wait "
    f"msprof counts as synchronizing), idle = the rest (launch); wait_ratio = {_WAIT_RATIO}, "
    "synchronization_ratio = synchronization / (synchronization + transit); per link type (HCCS, PCIE, "
    "RDMA, SDMA, SIO) bytes "
    "(MB x 10^6), transit_ns and bandwidth_gbps = bytes / transit_ns",
    "communication.wait_ratio": _WAIT_RATIO,
    "steps.duration_ns": "host-side ProfilerStep#N span durations; percentiles by nearest rank",
    "steps.throughput_per_s": "1 s / mean step duration: steps per second when steps run one after another",
    "steps.series": "each step's duration in start order (every stride-th step when there are more than "
    "2000)",
    "host.sync_calls": "cudaDeviceSynchronize / cudaStreamSynchronize calls of the host (on Ascend "
    "aclrtSynchronizeDevice / aclrtSynchronizeStream), count and time (nsys rule cuda_api_sync)",
    "hotspots": "kernels grouped by short name (no return type, template arguments or parameters); "
    f"share = {_HOTSPOT_SHARE}",
    "hotspots.share": _HOTSPOT_SHARE,
    "launch.delay": "kernel start - (launch call start + launch call duration), clipped at 0",
    "launch.short_kernel_share": "kernels shorter than their own launch call / kernels with a known "
    "launch call",
    "memory.allocated": "the device's total allocated bytes after each allocation or free (PyTorch "
    "profiler [memory] samples, profile_memory=True; CPU samples are left out), over the whole "
    "capture; null without samples. Traces without Total Allocated give the running sum of allocation "
    "sizes since the capture began, so levels and peak are then lower bounds (see trace warnings)",
    "memory.peak_bytes": "largest allocated level of any sample; peak_ns its time; start_bytes and "
    "end_bytes the first and last samples' levels",
    "memory.per_step": "allocated at a step's end = level of the last sample at or before the end of the "
    "host step span (null when none is that early); at most 2000 steps, evenly subsampled",
    "memory.growth_per_step_bytes": "least-squares slope of allocated-at-step-end over step number "
    "(bytes per step; null with fewer than 2 steps); a steady leak of L bytes per step gives L",
    "memory.growing_steps_share": "consecutive step pairs whose allocated-at-step-end rose / pairs",
    "memory.series": "(time, allocated) of every sample, or beyond 1000 samples the largest sample of each "
    "of 1000 equal time buckets of [first, last sample]",
    "timeline": "the step of median duration (or the first 5 ms of the device window when the trace has "
    "no steps): its host and device events by lane, at most 3000 (runs of events shorter than 1/2000 of "
    "the window merge into one bar)",
    "whatif": "replay of up to 32 evenly spaced steps: host calls keep their measured gaps; a device "
    "operation starts at max(launch call start + lag, previous end on its stream + gap), the binding "
    "term measured, the other the step's minimum; values are medians over the replayed steps",
    "whatif.removable_share": "f = |union of the host and device intervals the change acts on| / step "
    "duration; Amdahl bound = 1 / (1 - f)",
    "whatif.copy_cost": "least-squares fit of copy duration = fixed + bytes x per-byte over the device's "
    "pinned H2D copies (all H2D copies when pinned ones have fewer than 2 sizes)",
    "whatif.engine_share": "|union of the step's kernels (or copies)| / step duration; host: |union of the "
    "driving thread's calls and CPU ops| minus their waits / step duration",
    "whatif.kernels": "kernel duration median, share shorter than 10 us, number of streams with kernels",
    "whatif.kernel_overlap": "1 - |union of kernels| / sum of kernel durations (time kernels of different "
    "streams run together)",
    "whatif.pipeline": "host stage: step time with the device idle and the driving thread inside CPU ops "
    "or annotations that hold no call, outside every call, before the first launch or after the last "
    "call; rest = step - host stage; with k workers step = max(host / k, rest)",
    "operations": "kernels + copies + memsets + communication kernels of the device",
    "bubbles.total_ns": "sum of bubble lengths",
    "bubbles.histogram": "decade bins by bubble length; bin i holds lengths in [lo, hi)",
    "long_gaps": "idle intervals inside W strictly longer than the gap threshold (nsys gpu_gaps view)",
    "copies.count": "copies of this direction on the device",
    "copies.bytes": "Σ bytes over copies whose bytes are known",
    "memset": "memsets of the device: count, Σ bytes, Σ durations",
    "blocking.pageable_async_copies": "copies with a pageable host end issued by cudaMemcpy*Async "
    "(nsys rule cuda_memcpy_async)",
    "blocking.sync_copies": "copies issued by cudaMemcpy* without Async (nsys rule cuda_memcpy_sync)",
    "blocking.sync_memsets": "memsets of pinned or managed memory issued by cudaMemset* without Async "
    "(nsys rule cuda_memset_sync)",
    "hotspots.count": "kernels in the group",
    "launch.call_p50": "median duration of the kernels' launch calls (nearest rank)",
    "operators.signature": "CPU operator that launched the device work (the outermost enclosing one with a "
    "performance model), grouped by name, input shapes and dtypes",
    "operators.dtype": "compute dtype of the operator; in brackets the peak's precision when it differs "
    "(fp32 GEMMs mostly on tensor cores count as tf32)",
    "operators.count": "calls of the operator with these shapes and dtypes",
    "operators.device_ns": "Σ over calls of |union of the call's device operations|",
    "operators.achieved_tflops": "FLOPs of the model (Σ over calls) / device time",
    "operators.achieved_gbps": "bytes of the model (inputs read once, output written once; Σ over calls) / "
    "device time",
    "operators.peak_share": "roofline time / device time; roofline time = max(FLOPs / peak, bytes / memory "
    "bandwidth)",
    "operators.bound": "compute when FLOPs / peak ≥ bytes / memory bandwidth, else memory",
    "operators.peak_tflops": "dense peak TFLOP/s of each precision the operators were compared with",
    "operators.memory_gbps": "memory bandwidth of the hardware row (GB/s)",
    "whatif.attribution": "exclusive partition of the step's critical path: walking back from the step's end "
    "along what bound each start (launch call, stream order, host order, awaited work), each nanosecond goes "
    "to exactly one category; the categories sum to the step time",
    "attribution.share": "category time / step time, on the same step",
    "plan": "the plan's changes applied one after another in the replay (greedy by gain), each on top "
    "of the previous; cumulative speedup = baseline step time / predicted step time",
    "plan.gain": "step time before this change / after it, replayed on top of the plan's earlier steps",
    "plan.predicted_step_ns": "predicted step time with this change and the plan's earlier ones "
    "(replay of the measured steps; baseline: their median)",
    "plan.cumulative_speedup": "baseline step time / step time after this step",
    "gain.latency_cost": "latency cost = predicted step time / measured step time (the changed step "
    "does more work)",
    "gain.speedup": "measured step time / predicted step time (replay); for throughput: work per second "
    "after / before",
    "gain.alternative": "gain of this change alone, replayed on the measured steps; it acts on the "
    "same time as the finding above",
}
