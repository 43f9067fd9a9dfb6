"""Every text of the recommendations, in English and Simplified Chinese.

Keys: `<rule id>.title`, `.summary` (filled with the outcome's params), `.actions.<platform>`;
`reason.*` (why a rule did not fire), `ev.*` (evidence labels), `method.*`, `assume.*`, `col.*`,
`case.*` (the case study a rule comes from, shared/seeds/).
"""

from __future__ import annotations

CASES = {
    "000": "shared/seeds/000_f9235833dbe5082f.txt",
    "001": "shared/seeds/001_c44fff47b7fffe79.txt",
    "002": "shared/seeds/002_7e38596fb3cd6051.txt",
    "003": "shared/seeds/003_b6818a9b0d2e6561.txt",
    "004": "shared/seeds/004_e7e0af63868b0348.txt",
}

EN: dict[str, object] = {
    "h2d-batch.title": "Batch the host-to-device copies",
    "h2d-batch.summary": "{per_step:.1f} separate H2D copies per step each pay a fixed cost; one copy of "
    "one buffer would bring the step to about {predicted}.",
    "h2d-batch.actions.cuda": [
        "Pack the step's inputs into one pinned host buffer (torch.empty(..., pin_memory=True)) and copy "
        "it with a single non_blocking .to('cuda') / cudaMemcpyAsync; split it on the device with views.",
        "If inputs come from a DataLoader, collate them into one tensor per batch (pin_memory=True).",
    ],
    "h2d-batch.actions.ascend": [
        "Copy the inputs with one aclrtMemcpyBatch call (or one aclrtMemcpyAsync from one contiguous "
        "host buffer) instead of one aclrtMemcpy per input.",
        "Group inputs of the same kind (e.g. all sparse ids) into one buffer per group.",
    ],
    "pin-memory.title": "Copy from pinned (page-locked) host memory",
    "pin-memory.summary": "{count:,} H2D copies from pageable memory ({bytes}) made the host wait for "
    "the copy; from pinned memory they run asynchronously.",
    "pin-memory.actions.cuda": [
        "Allocate the host tensors once with pin_memory=True (or DataLoader(pin_memory=True)) and copy "
        "with .to('cuda', non_blocking=True).",
        "In CUDA code, use cudaHostAlloc / cudaHostRegister for the buffers passed to cudaMemcpyAsync.",
    ],
    "overlap-copies.title": "Overlap the copies with compute",
    "overlap-copies.summary": "Copies run while the device computes nothing ({share} of the device "
    "window); issuing them on their own stream, one step ahead, hides them.",
    "overlap-copies.actions.cuda": [
        "Copy the next step's inputs on a separate torch.cuda.Stream with non_blocking=True from pinned "
        "memory, and make the compute stream wait on an event (stream.wait_event).",
        "Or prefetch in the data pipeline (a prefetcher that keeps one batch on the device).",
    ],
    "overlap-copies.actions.ascend": [
        "Issue the next inference's aclrtMemcpyAsync on a second stream and synchronize the compute "
        "stream with an event (aclrtStreamWaitEvent).",
    ],
    "more-instances.title": "Run several inference instances",
    "more-instances.summary": "One stream keeps the device computing only {utilization} of the time; "
    "about {instances} instances would fill the gaps between operators.",
    "more-instances.actions.cuda": [
        "Serve with {instances} model instances (processes, or threads with one CUDA stream each; e.g. "
        "Triton instance_group count: {instances}).",
        "Prefer processes over threads when host work holds the Python GIL.",
    ],
    "more-instances.actions.ascend": [
        "Run {instances} inference instances in parallel threads, each with its own context/stream "
        "(case 000: 4 instances gave 2.08x the throughput).",
        "Watch latency: it grows with contention; limit cores per operator if instances collide.",
    ],
    "core-limit.title": "Limit the cores each operator may use",
    "core-limit.summary": "{streams} streams run kernels but they overlap only {overlap} of the time: "
    "each operator takes every core, so instances queue behind each other.",
    "core-limit.actions.ascend": [
        'Build the model with ge.aicoreNum (e.g. "8|8" cube|vector cores per operator) so operators of '
        "different instances run side by side (case 000: +19.5 % throughput at 4 instances).",
    ],
    "core-limit.actions.cuda": [
        "Share the GPU between instances with MPS and CUDA_MPS_ACTIVE_THREAD_PERCENTAGE, or with MIG "
        "partitions, so kernels of different instances run concurrently.",
    ],
    "bigger-batch.title": "Increase the batch size",
    "bigger-batch.summary": "Kernels take {median} (median): fixed launch and dispatch costs dominate; "
    "a {factor}x batch amortizes them.",
    "bigger-batch.actions.cuda": [
        "Raise the batch size (or enable dynamic batching in the server, e.g. Triton "
        "dynamic_batching) until kernels run well above 10 us or latency reaches its budget.",
    ],
    "bigger-batch.actions.ascend": [
        "Raise BatchSize (case 000: 128 -> 256 gave +95.7 % throughput for +7.9 % latency) and rebuild "
        "the model for the new shape.",
    ],
    "graph-launch.title": "Launch the step as a graph (or fuse kernels)",
    "graph-launch.summary": "{short} of kernels are shorter than their launch call and the device "
    "waits for the host {wait} of the time: the step is launch-bound.",
    "graph-launch.actions.cuda": [
        "Capture the step in a CUDA graph (torch.cuda.CUDAGraph / torch.compile(mode='reduce-overhead')) "
        "and replay it with static input buffers.",
        "Fuse small element-wise kernels (torch.compile, TensorRT) to cut the number of launches.",
    ],
    "graph-launch.actions.ascend": [
        "Run in graph mode (torchair / ACL graph, or an offline OM model) instead of single-operator "
        "mode, and fuse small operators.",
    ],
    "static-shapes.title": "Remove dynamic shapes and host synchronizations",
    "static-shapes.summary": "The host waits for device results inside the step ({per_step:.1f} per "
    "step), so the device idles until the host launches the rest.",
    "static-shapes.actions.cuda": [
        "Avoid .item(), .cpu(), nonzero() and boolean-mask indexing inside the step; use fixed-size "
        "outputs (torch.where with padding, topk with a fixed k).",
        "Keep shapes static so the step can also be captured as a graph.",
    ],
    "static-shapes.actions.ascend": [
        "Replace dynamic-shape operators (Where/nonzero, Unique) with static forms (padding plus a mask, "
        "fixed-size gather) and fix input shapes (case 001: 51 ms -> 4.6 ms).",
    ],
    "ai-cpu.title": "Move AI CPU operators to the AI Core",
    "ai-cpu.summary": "{count:,} operators ran on the AI CPU ({time}): slow, serial, and they add "
    "host-device handoffs.",
    "ai-cpu.actions.ascend": [
        "Rewrite them with AI Core operators (e.g. Unique via sort + compare, Where via a mask) or cast "
        "inputs to a dtype the AI Core kernel supports.",
    ],
    "int64.title": "Use int32 instead of int64 operands",
    "int64.summary": "{count:,} operators take int64 inputs ({time}); the vector units handle int32 "
    "far faster.",
    "int64.actions.ascend": [
        "Cast ids and indices to int32 before the model (case 001: an int64 Equal took 230 us, ~30 us in "
        "int32).",
    ],
    "mixed-precision.title": "Use mixed precision (fp16/bf16)",
    "mixed-precision.summary": "fp32 GEMM/convolution kernels take {share} of kernel time on hardware "
    "with fast fp16/bf16 units.",
    "mixed-precision.actions.cuda": [
        "Run inference under torch.autocast('cuda', dtype=torch.bfloat16) or convert the model with "
        ".half(); with TensorRT build with fp16/int8 enabled.",
        "At least allow TF32 (torch.backends.cuda.matmul.allow_tf32 = True).",
    ],
    "cpu-bound.title": "Take CPU work off the critical path",
    "cpu-bound.summary": "The device idles while the host does CPU work that launches nothing "
    "({share} of the step, {host}): the pipeline is CPU-bound.",
    "cpu-bound.actions.cuda": [
        "Move pre/post-processing to DataLoader workers or separate processes and overlap it with the "
        "GPU step; or do it on the GPU (e.g. DALI, torchvision.transforms.v2 on tensors).",
    ],
    "cpu-bound.actions.ascend": [
        "Run pre/post-processing in separate threads or processes (or DVPP) and pipeline them with "
        "inference.",
    ],
    "pipeline-balance.title": "Balance the pipeline stages",
    "pipeline-balance.summary": "The host stage (pre/post-processing) is {ratio:.1f}x longer than the "
    "device stage; throughput is 1 / the slowest stage, so give it about {workers} workers.",
    "pipeline-balance.actions.cuda": [
        "Run {workers} workers for the slow stage (e.g. DataLoader num_workers) and connect stages with "
        "queues so they overlap.",
    ],
    "pipeline-balance.actions.ascend": [
        "Allocate resources per stage statically (case 003): {workers} pre-processing workers feeding one "
        "inference stage through a queue.",
    ],
    "memory-growth.title": "Find the device memory leak",
    "memory-growth.summary": "Allocated device memory grows by {growth} per step (in {share} of the "
    "steps): the process will run out of memory.",
    "memory-growth.actions.cuda": [
        "Look for tensors kept across steps (appended to lists, stored for logging without .detach() / "
        ".cpu(), caches without a bound); torch.cuda.memory._record_memory_history shows who allocates.",
    ],
    "reason.needs_steps_and_device": "needs steps and device operations",
    "reason.needs_device": "needs device operations",
    "reason.few_copies": "{per_step:.1f} H2D copies per step (fires at {minimum} or more)",
    "reason.nothing_to_change": "the replay found nothing to change",
    "reason.gain_too_small": "predicted gain {speedup:.2f}x is below {minimum:.2f}x",
    "reason.no_pinned_info": "msprof does not record whether host memory is pinned",
    "reason.no_pageable": "no copies from pageable memory",
    "reason.needs_pinned_rate": "no pinned copies of two sizes in the trace and no host link rate for this GPU "
    "(give --device) to predict pinned copies",
    "reason.copies_hidden": "no copy time is exposed (every copy runs under kernels)",
    "reason.already_parallel": "{streams} streams already run kernels",
    "reason.device_busy": "kernel utilization {utilization:.1%} is not low",
    "reason.no_room": "instances could gain at most {bound:.2f}x",
    "reason.one_stream": "one stream: no instances to contend",
    "reason.streams_overlap": "kernels of different streams overlap {overlap:.1%} of their time",
    "reason.kernels_long": "median kernel {median}: not dominated by fixed costs",
    "reason.needs_launch_links": "needs kernels linked to their launch calls",
    "reason.kernels_outlast_launches": "only {share:.1%} of kernels are shorter than their launch",
    "reason.device_not_waiting": "the device waits for launches {share:.1%} of the time",
    "reason.needs_cuda_kernel_names": "needs CUDA kernel names",
    "reason.fp32_small": "fp32 GEMM/convolution kernels are {share:.1%} of kernel time",
    "reason.needs_ascend_operator_data": "needs Ascend operator details (kernel_details / op_summary)",
    "reason.none_found": "none found",
    "reason.no_mid_step_syncs": "the host does not wait for the device inside a step",
    "reason.host_not_dominant": "host-only CPU work is {share:.1%} of the step",
    "reason.one_stage": "one stage dominates (host {host}, device {device})",
    "reason.host_not_slowest": "host stage / device stage = {ratio:.1f} (fires at 2)",
    "reason.needs_memory_samples": "the trace has no device memory samples (record with profile_memory=True)",
    "reason.memory_flat": "allocated memory does not grow ({growth} per step)",
    "ev.copies_per_step": "H2D copies per step",
    "ev.median_copy": "median copy size",
    "ev.copy_fixed_cost": "fixed cost per copy (fit)",
    "ev.targeted_share": "share of the step the change targets",
    "ev.pageable_copies": "pageable H2D copies",
    "ev.pageable_bytes": "pageable bytes",
    "ev.exposed_share": "copy time not under compute",
    "ev.copy_time": "copy busy time",
    "ev.kernel_utilization": "kernel utilization",
    "ev.bubbles_per_step": "bubbles per step",
    "ev.compute_share": "compute busy share of a step",
    "ev.copy_share": "copy engine busy share of a step",
    "ev.host_busy_share": "driving host thread busy share of a step",
    "ev.kernel_streams": "streams with kernels",
    "ev.kernel_overlap": "kernel time overlapping another stream",
    "ev.kernel_median": "median kernel duration",
    "ev.short_kernels": "kernels shorter than 10 us",
    "ev.short_kernel_share": "kernels shorter than their launch call",
    "ev.host_wait_share": "device waiting for launches",
    "ev.launch_call": "launch call p50",
    "ev.fp32_gemm_share": "fp32 GEMM/conv share of kernel time",
    "ev.operators": "operators",
    "ev.operator_time": "their device time",
    "ev.syncs_per_step": "synchronize calls per step",
    "ev.sync_wait_share": "host waiting inside the step",
    "ev.dynamic_ops": "dynamic-shape operators",
    "ev.idle_before": "device idle before them",
    "ev.host_stage": "host stage per step",
    "ev.device_stage": "device stage per step",
    "ev.host_share": "host stage share of the step",
    "ev.stage_ratio": "slow / fast stage",
    "ev.growth_per_step": "growth per step",
    "ev.growing_steps": "steps that grew",
    "ev.peak_memory": "peak allocated",
    "method.batch_h2d": "replay of the measured steps with the step's H2D copies merged into one copy "
    "(fixed cost + bytes / bandwidth, fitted on the trace's copies), issued at the first copy's place "
    "with the host cost of the cheapest copy",
    "method.pin_memory": "replay with each blocking pageable copy issued asynchronously, its host wait "
    "removed, and its duration from the pinned copies' fit",
    "method.overlap_copies": "replay with the H2D copies off the step's critical path (prefetched on "
    "another stream); the step is at least as long as the copies",
    "method.graph_launch": "replay with each run of launch-only host work replaced by one launch call "
    "(median launch call) and its kernels chained with the step's smallest gap",
    "method.remove_host_syncs": "replay with the synchronizations before the step's last one not waiting",
    "method.bigger_batch": "replay with kernel time and copy bytes doubled (launch, dispatch and host "
    "time unchanged); throughput gain = 2 x measured / predicted step time",
    "method.more_instances": "throughput bound of identical instances: step time / busy time of the "
    "busiest resource in a step (compute engine, copy engines, driving host thread), capped at the "
    "suggested instance count",
    "method.core_limit": "upper bound: serialized kernel time that could overlap across streams, "
    "(1 - 1/streams) x kernel utilization, removed",
    "method.int64": "int64 operators shortened to 30/230 of their time (case 001's measurement)",
    "method.ai_cpu": "AI CPU operator time removed (bound)",
    "method.dynamic_idle": "device idle before dynamic-shape operators removed",
    "method.cpu_bound": "host-only CPU work overlapped with the device (pipelined): the step shrinks by "
    "the shorter of the two stages",
    "method.pipeline_balance": "step = max(slow stage / workers, fast stage) with the stages pipelined",
    "method.memory": "no speed gain: the leak bounds how long the process can run",
    "assume.inputs_in_one_buffer": "inputs are already in one pinned host buffer (packing them costs "
    "host time not counted here)",
    "assume.copy_fit": "copy time is linear in bytes, as fitted on this trace's copies",
    "assume.pinned_cost": "an asynchronous copy costs the host what the same copy cost without waiting",
    "assume.prefetch": "the next step's inputs are known one step ahead",
    "assume.engines": "copies and kernels use separate engines; the busiest engine saturates",
    "assume.host_parallel": "host work of the instances runs in parallel (processes, or threads without "
    "a shared lock; a shared lock lowers the gain, as in case 000)",
    "assume.latency_grows": "per-request latency grows",
    "assume.bound_only": "not replayed: an upper bound",
    "assume.fixed_cost_ops": "operators are dominated by fixed costs, so fewer cores barely slow them",
    "assume.linear_work": "kernel time grows linearly with the batch (pessimistic for short kernels)",
    "assume.memory_fits": "the larger batch fits in device memory",
    "assume.graph_capturable": "the launch-only segments have static shapes and no host decisions",
    "assume.no_host_decision": "the host does not need the values it waited for to continue",
    "assume.accuracy": "the model keeps its accuracy in reduced precision",
    "assume.int64_ratio": "int32 forms run as case 001 measured (230 us -> 30 us)",
    "assume.ai_core_negligible": "the AI Core replacement takes negligible time",
    "assume.serial_device": "the operators are on the step's critical path",
    "assume.idle_removed": "the idle time before dynamic-shape operators disappears with static shapes",
    "assume.overlap_host": "host and device stages can run concurrently on different steps",
    "assume.stage_workers": "the slow stage scales with its workers",
    "assume.memory_trend": "the growth continues at the same rate",
    "col.kernel": "kernel",
    "col.count": "count",
    "col.total": "total",
    "col.share": "share",
    "col.op_type": "operator type",
    "host-syncs.title": "Keep device values on the device inside the step",
    "host-syncs.summary": "The host reads device values {per_step:.1f} times per step (.item(), .cpu(), "
    "a tensor in an if) and waits for the device each time; with one read at the end the step would take "
    "about {predicted}.",
    "host-syncs.actions.cuda": [
        "Keep flags and counters as device tensors (torch.where, masked updates) and read them once, "
        "at the end of the step.",
        "Replace `if x.item():` by computing both branches on the device or deciding every N steps.",
        "torch.cuda.set_sync_debug_mode('warn') lists every synchronizing call.",
    ],
    "reason.same_cause": "acts on the same time as {other}: listed there as an alternative",
    "reason.already_mixed": "GEMMs or convolutions already run in bf16/fp16: the step uses mixed precision",
    "reason.absorbed": "alone it would gain {speedup:.2f}x, but after the plan's changes it saves too little",
    "reason.precondition": "needs the synchronizations inside the step removed first, and then saves too little",
    "reason.one_instance": "one instance drives the device ({streams} streams, but its other streams copy or communicate)",
    "reason.training": "a training trace (backward passes, optimizer steps): inference-serving advice does not apply",
    "reason.no_dynamic_shapes": "no operator with a data-dependent output shape waits for the device",
    "reason.needs_shapes_and_gpu": "fp32 GEMM kernels found; record with record_shapes=True, on a GPU of the "
    "hardware table (or give --device), to predict the gain",
    "method.static_shapes": "replay with the data-dependent-shape operators static: their synchronizations do "
    "not wait and their size computation (kernels, count copy) goes",
    "method.mixed_precision_roofline": "replay with each fp32 kernel at its bf16 time: its operator's roofline "
    "in bf16 over its roofline as it ran (TF32 or fp32 SIMT peak), layout and elementwise work at half the bytes",
    "assume.roofline_share": "each operator keeps its achieved share of the roofline in bf16",
    "assume.static_equivalent": "a static form exists (torch.where, a multiply by the mask)",
    "assume.profiler_host": "host time was measured under the profiler, which inflates it: a host-bound gain is "
    "an upper bound (--unprofiled-step calibrates it)",
    "col.operator": "operator",
    "case.000": "Case 000: batch H2D, multi-instance, AI Core control, batch size (Atlas A3)",
    "case.001": "Case 001: dynamic shapes, AI CPU and int64 operators (coarse ranking, TP99 < 5 ms)",
    "case.002": "Case 002: CPU-bound, I/O-bound, memory leaks, fp16, fusion and graphs",
    "case.003": "Case 003: pipeline stages, throughput = 1 / slowest stage",
    "case.004": "Case 004: batching, pipelining and feeding the accelerator",
}

ZH: dict[str, object] = {
    "h2d-batch.title": "合并主机到设备（H2D）拷贝",
    "h2d-batch.summary": "每步 {per_step:.1f} 次独立 H2D 拷贝，每次都有固定开销；合并为一个缓冲区的一次拷贝后，"
    "单步约为 {predicted}。",
    "h2d-batch.actions.cuda": [
        "把一步的输入放进一个锁页主机缓冲区（torch.empty(..., pin_memory=True)），用一次 non_blocking 的 "
        ".to('cuda') / cudaMemcpyAsync 拷贝，再在设备上用视图切分。",
        "若输入来自 DataLoader，按批整理成一个张量（pin_memory=True）。",
    ],
    "h2d-batch.actions.ascend": [
        "用一次 aclrtMemcpyBatch（或从一块连续主机内存的一次 aclrtMemcpyAsync）代替每个输入一次 aclrtMemcpy。",
        "同类输入（如全部稀疏 ID）合并到同一缓冲区。",
    ],
    "pin-memory.title": "从锁页（pinned）主机内存拷贝",
    "pin-memory.summary": "{count:,} 次来自可分页内存的 H2D 拷贝（{bytes}）让主机等待拷贝完成；改用锁页内存后可异步执行。",
    "pin-memory.actions.cuda": [
        "主机张量一次性用 pin_memory=True 分配（或 DataLoader(pin_memory=True)），并以 "
        ".to('cuda', non_blocking=True) 拷贝。",
        "CUDA 代码中，传给 cudaMemcpyAsync 的缓冲区用 cudaHostAlloc / cudaHostRegister 分配。",
    ],
    "overlap-copies.title": "让拷贝与计算重叠",
    "overlap-copies.summary": "拷贝执行时设备没有计算（占设备时间窗的 {share}）；在独立的流上提前一步发起拷贝即可隐藏。",
    "overlap-copies.actions.cuda": [
        "在单独的 torch.cuda.Stream 上从锁页内存以 non_blocking=True 拷贝下一步的输入，计算流通过事件等待"
        "（stream.wait_event）。",
        "或在数据管线中预取（始终在设备上保留一个批次）。",
    ],
    "overlap-copies.actions.ascend": [
        "在第二条流上发起下一次推理的 aclrtMemcpyAsync，计算流用事件同步（aclrtStreamWaitEvent）。",
    ],
    "more-instances.title": "运行多个推理实例",
    "more-instances.summary": "单条流只让设备 {utilization} 的时间在计算；约 {instances} 个实例可以填满算子之间的空隙。",
    "more-instances.actions.cuda": [
        "用 {instances} 个模型实例提供服务（多进程，或每个线程一条 CUDA 流；如 Triton instance_group count: "
        "{instances}）。",
        "主机侧工作持有 Python GIL 时，优先用多进程而不是多线程。",
    ],
    "more-instances.actions.ascend": [
        "用 {instances} 个线程并行运行推理实例，每个实例有自己的 context/stream（案例 000：4 实例吞吐提升到 2.08 倍）。",
        "注意时延会随资源竞争上升；实例互相争抢时限制每个算子的核数。",
    ],
    "core-limit.title": "限制每个算子可用的核数",
    "core-limit.summary": "{streams} 条流在执行核函数，但只有 {overlap} 的时间重叠：每个算子占满所有核，实例之间相互排队。",
    "core-limit.actions.ascend": [
        '用 ge.aicoreNum 构建模型（如 "8|8"，即每个算子的 cube|vector 核数），让不同实例的算子并行执行'
        "（案例 000：4 实例时吞吐 +19.5 %）。",
    ],
    "core-limit.actions.cuda": [
        "用 MPS 与 CUDA_MPS_ACTIVE_THREAD_PERCENTAGE 或 MIG 分区在实例间共享 GPU，让不同实例的核函数并发执行。",
    ],
    "bigger-batch.title": "增大批大小（BatchSize）",
    "bigger-batch.summary": "核函数中位耗时 {median}：固定的下发与调度开销占主导；{factor} 倍的批大小可以摊薄这些开销。",
    "bigger-batch.actions.cuda": [
        "提高批大小（或在服务端启用动态批处理，如 Triton dynamic_batching），直到核函数明显超过 10 us 或时延达到预算。",
    ],
    "bigger-batch.actions.ascend": [
        "提高 BatchSize（案例 000：128 -> 256 吞吐 +95.7 %，时延 +7.9 %），并按新形状重新构建模型。",
    ],
    "graph-launch.title": "以图方式下发（或融合核函数）",
    "graph-launch.summary": "{short} 的核函数比其下发调用还短，设备有 {wait} 的时间在等待主机：该步受下发开销限制。",
    "graph-launch.actions.cuda": [
        "把一步捕获为 CUDA Graph（torch.cuda.CUDAGraph / torch.compile(mode='reduce-overhead')），用静态输入缓冲区重放。",
        "融合小的逐元素核函数（torch.compile、TensorRT）以减少下发次数。",
    ],
    "graph-launch.actions.ascend": [
        "使用图模式（torchair / ACL graph，或离线 OM 模型）代替单算子模式，并融合小算子。",
    ],
    "static-shapes.title": "消除动态形状与主机同步",
    "static-shapes.summary": "主机在一步之内等待设备结果（每步 {per_step:.1f} 次），设备空闲直到主机下发剩余工作。",
    "static-shapes.actions.cuda": [
        "避免在步内使用 .item()、.cpu()、nonzero() 和布尔掩码索引；使用固定大小的输出（带填充的 torch.where、固定 k 的 topk）。",
        "保持形状静态，这样整步也可以捕获为图。",
    ],
    "static-shapes.actions.ascend": [
        "用静态形式替换动态形状算子（Where/nonzero、Unique 改为填充加掩码、固定大小的 gather），并固定输入形状"
        "（案例 001：51 ms -> 4.6 ms）。",
    ],
    "ai-cpu.title": "把 AI CPU 算子迁移到 AI Core",
    "ai-cpu.summary": "{count:,} 个算子在 AI CPU 上执行（{time}）：慢、串行，还增加主机与设备之间的交接。",
    "ai-cpu.actions.ascend": [
        "用 AI Core 算子改写（如 Unique 用排序加比较，Where 用掩码），或把输入转换为 AI Core 核函数支持的数据类型。",
    ],
    "int64.title": "用 int32 代替 int64 操作数",
    "int64.summary": "{count:,} 个算子使用 int64 输入（{time}）；向量单元处理 int32 快得多。",
    "int64.actions.ascend": [
        "在模型之前把 ID 和索引转换为 int32（案例 001：int64 的 Equal 耗时 230 us，int32 约 30 us）。",
    ],
    "mixed-precision.title": "使用混合精度（fp16/bf16）",
    "mixed-precision.summary": "在具备快速 fp16/bf16 单元的硬件上，fp32 GEMM/卷积核函数占核函数时间的 {share}。",
    "mixed-precision.actions.cuda": [
        "在 torch.autocast('cuda', dtype=torch.bfloat16) 下推理，或用 .half() 转换模型；TensorRT 构建时启用 fp16/int8。",
        "至少允许 TF32（torch.backends.cuda.matmul.allow_tf32 = True）。",
    ],
    "cpu-bound.title": "把 CPU 工作移出关键路径",
    "cpu-bound.summary": "主机执行不下发任何工作的 CPU 计算时设备空闲（占一步的 {share}，{host}）：流水线受 CPU 限制。",
    "cpu-bound.actions.cuda": [
        "把前后处理放到 DataLoader 工作进程或独立进程中，与 GPU 步骤重叠；或在 GPU 上完成（如 DALI、对张量使用 "
        "torchvision.transforms.v2）。",
    ],
    "cpu-bound.actions.ascend": [
        "在独立线程或进程（或 DVPP）中执行前后处理，并与推理组成流水线。",
    ],
    "pipeline-balance.title": "平衡流水线各阶段",
    "pipeline-balance.summary": "主机阶段（前后处理）比设备阶段长 {ratio:.1f} 倍；吞吐量 = 1 / 最慢阶段，应为其分配约 {workers} 个工作者。",
    "pipeline-balance.actions.cuda": [
        "慢阶段运行 {workers} 个工作者（如 DataLoader num_workers），阶段之间用队列连接以便重叠。",
    ],
    "pipeline-balance.actions.ascend": [
        "按阶段静态分配资源（案例 003）：{workers} 个前处理工作者通过队列为一个推理阶段供数。",
    ],
    "memory-growth.title": "排查设备内存泄漏",
    "memory-growth.summary": "已分配的设备内存每步增长 {growth}（{share} 的步骤在增长）：进程终将耗尽内存。",
    "memory-growth.actions.cuda": [
        "查找跨步保留的张量（追加到列表、记录日志时未 .detach() / .cpu()、没有上限的缓存）；"
        "torch.cuda.memory._record_memory_history 可显示分配来源。",
    ],
    "reason.needs_steps_and_device": "需要步骤信息和设备操作",
    "reason.needs_device": "需要设备操作",
    "reason.few_copies": "每步 {per_step:.1f} 次 H2D 拷贝（不少于 {minimum} 次时触发）",
    "reason.nothing_to_change": "重放没有找到可改变的部分",
    "reason.gain_too_small": "预测收益 {speedup:.2f} 倍，低于 {minimum:.2f} 倍",
    "reason.no_pinned_info": "msprof 不记录主机内存是否锁页",
    "reason.no_pageable": "没有来自可分页内存的拷贝",
    "reason.needs_pinned_rate": "迹中没有两种大小以上的锁页拷贝，也不知道该 GPU 的主机链路速率（可给出 --device），无法预测锁页拷贝",
    "reason.copies_hidden": "没有暴露的拷贝时间（每次拷贝都在核函数之下运行）",
    "reason.already_parallel": "已有 {streams} 条流在执行核函数",
    "reason.device_busy": "核函数利用率 {utilization:.1%}，并不低",
    "reason.no_room": "多实例最多只能提升 {bound:.2f} 倍",
    "reason.one_stream": "只有一条流：没有实例相互争抢",
    "reason.streams_overlap": "不同流的核函数有 {overlap:.1%} 的时间重叠",
    "reason.kernels_long": "核函数中位耗时 {median}：不受固定开销主导",
    "reason.needs_launch_links": "需要核函数与其下发调用的关联",
    "reason.kernels_outlast_launches": "只有 {share:.1%} 的核函数比其下发调用短",
    "reason.device_not_waiting": "设备等待下发的时间只占 {share:.1%}",
    "reason.needs_cuda_kernel_names": "需要 CUDA 核函数名称",
    "reason.fp32_small": "fp32 GEMM/卷积核函数占核函数时间的 {share:.1%}",
    "reason.needs_ascend_operator_data": "需要昇腾算子详情（kernel_details / op_summary）",
    "reason.none_found": "未发现",
    "reason.no_mid_step_syncs": "主机在步内不等待设备",
    "reason.host_not_dominant": "仅主机的 CPU 工作占一步的 {share:.1%}",
    "reason.one_stage": "单一阶段占主导（主机 {host}，设备 {device}）",
    "reason.host_not_slowest": "主机阶段 / 设备阶段 = {ratio:.1f}（达到 2 时触发）",
    "reason.needs_memory_samples": "迹中没有设备内存采样（用 profile_memory=True 采集）",
    "reason.memory_flat": "已分配内存没有增长（每步 {growth}）",
    "ev.copies_per_step": "每步 H2D 拷贝次数",
    "ev.median_copy": "拷贝大小中位数",
    "ev.copy_fixed_cost": "每次拷贝的固定开销（拟合）",
    "ev.targeted_share": "该改动针对的时间占比",
    "ev.pageable_copies": "可分页 H2D 拷贝",
    "ev.pageable_bytes": "可分页字节数",
    "ev.exposed_share": "未被计算掩盖的拷贝时间",
    "ev.copy_time": "拷贝忙碌时间",
    "ev.kernel_utilization": "核函数利用率",
    "ev.bubbles_per_step": "每步空泡数",
    "ev.compute_share": "每步计算忙碌占比",
    "ev.copy_share": "每步拷贝引擎忙碌占比",
    "ev.host_busy_share": "每步驱动线程忙碌占比",
    "ev.kernel_streams": "执行核函数的流",
    "ev.kernel_overlap": "与其他流重叠的核函数时间",
    "ev.kernel_median": "核函数耗时中位数",
    "ev.short_kernels": "短于 10 us 的核函数",
    "ev.short_kernel_share": "比下发调用还短的核函数",
    "ev.host_wait_share": "设备等待下发",
    "ev.launch_call": "下发调用 p50",
    "ev.fp32_gemm_share": "fp32 GEMM/卷积占核函数时间",
    "ev.operators": "算子数",
    "ev.operator_time": "其设备时间",
    "ev.syncs_per_step": "每步同步调用次数",
    "ev.sync_wait_share": "步内主机等待",
    "ev.dynamic_ops": "动态形状算子",
    "ev.idle_before": "其之前的设备空闲",
    "ev.host_stage": "每步主机阶段",
    "ev.device_stage": "每步设备阶段",
    "ev.host_share": "主机阶段占比",
    "ev.stage_ratio": "慢 / 快阶段",
    "ev.growth_per_step": "每步增长",
    "ev.growing_steps": "增长的步骤",
    "ev.peak_memory": "分配峰值",
    "method.batch_h2d": "重放实测步骤：把一步的 H2D 拷贝合并为一次（固定开销 + 字节数 / 带宽，按本迹的拷贝拟合），"
    "在第一次拷贝的位置以最便宜一次拷贝的主机开销发起",
    "method.pin_memory": "重放：每次阻塞的可分页拷贝改为异步发起，去掉主机等待，时长按锁页拷贝的拟合",
    "method.overlap_copies": "重放：H2D 拷贝移出关键路径（在另一条流上预取）；一步不短于拷贝本身",
    "method.graph_launch": "重放：每段只做下发的主机工作替换为一次下发调用（下发调用中位数），其核函数以本步最小间隔首尾相接",
    "method.remove_host_syncs": "重放：一步中最后一次之前的同步不再等待",
    "method.bigger_batch": "重放：核函数时间与拷贝字节数加倍（下发、调度和主机时间不变）；吞吐收益 = 2 × 实测 / 预测步长",
    "method.more_instances": "相同实例的吞吐上限：步长 / 一步内最忙资源（计算引擎、拷贝引擎、驱动线程）的忙碌时间，不超过建议的实例数",
    "method.core_limit": "上限：可在流之间重叠的串行核函数时间 (1 - 1/流数) × 核函数利用率 被消除",
    "method.int64": "int64 算子时间缩短为 30/230（案例 001 的实测）",
    "method.ai_cpu": "去掉 AI CPU 算子时间（上限）",
    "method.dynamic_idle": "去掉动态形状算子之前的设备空闲",
    "method.cpu_bound": "仅主机的 CPU 工作与设备重叠（流水线）：一步缩短两阶段中较短的一个",
    "method.pipeline_balance": "流水线化后 一步 = max(慢阶段 / 工作者数, 快阶段)",
    "method.memory": "没有速度收益：泄漏限制了进程能运行多久",
    "assume.inputs_in_one_buffer": "输入已经在一个锁页主机缓冲区中（打包的主机时间未计入）",
    "assume.copy_fit": "拷贝时间与字节数成线性关系（按本迹拷贝拟合）",
    "assume.pinned_cost": "异步拷贝的主机开销等于同一拷贝不含等待的开销",
    "assume.prefetch": "下一步的输入可提前一步得知",
    "assume.engines": "拷贝与核函数使用不同引擎；最忙的引擎达到饱和",
    "assume.host_parallel": "各实例的主机工作并行（多进程，或没有共享锁的线程；共享锁会降低收益，如案例 000）",
    "assume.latency_grows": "单请求时延会上升",
    "assume.bound_only": "未重放：这是上限",
    "assume.fixed_cost_ops": "算子受固定开销主导，减少核数几乎不会变慢",
    "assume.linear_work": "核函数时间随批大小线性增长（对短核函数偏保守）",
    "assume.memory_fits": "更大的批次能放进设备内存",
    "assume.graph_capturable": "只做下发的片段形状静态，且没有主机决策",
    "assume.no_host_decision": "主机继续执行不需要所等待的值",
    "assume.accuracy": "模型在低精度下保持精度",
    "assume.int64_ratio": "int32 形式的耗时如案例 001 实测（230 us -> 30 us）",
    "assume.ai_core_negligible": "AI Core 替代算子耗时可忽略",
    "assume.serial_device": "这些算子位于一步的关键路径上",
    "assume.idle_removed": "改为静态形状后，动态形状算子之前的空闲消失",
    "assume.overlap_host": "主机与设备阶段可以在不同步骤上并发执行",
    "assume.stage_workers": "慢阶段可随工作者数扩展",
    "assume.memory_trend": "增长按相同速率持续",
    "col.kernel": "核函数",
    "col.count": "次数",
    "col.total": "总计",
    "col.share": "占比",
    "col.op_type": "算子类型",
    "host-syncs.title": "步内把设备数值留在设备上",
    "host-syncs.summary": "主机每步读取设备数值 {per_step:.1f} 次（.item()、.cpu()、if 中的张量），每次都等待设备；"
    "只在步末读取一次时，一步约为 {predicted}。",
    "host-syncs.actions.cuda": [
        "把标志和计数器保留为设备张量（torch.where、掩码更新），在步末只读取一次。",
        "用在设备上同时计算两个分支、或每 N 步判断一次，替代 `if x.item():`。",
        "torch.cuda.set_sync_debug_mode('warn') 会列出每个同步调用。",
    ],
    "reason.same_cause": "与 {other} 作用于同一段时间：在那里列为备选做法",
    "reason.already_mixed": "GEMM 或卷积已经以 bf16/fp16 运行：这一步已使用混合精度",
    "reason.absorbed": "单独可提升 {speedup:.2f} 倍，但在计划中的改动之后收益太小",
    "reason.precondition": "需要先去掉步内的同步，之后收益仍太小",
    "reason.one_instance": "只有一个实例驱动设备（{streams} 条流，但其余的流用于拷贝或通信）",
    "reason.training": "训练迹（反向传播、优化器更新）：推理服务类建议不适用",
    "reason.no_dynamic_shapes": "没有输出形状依赖数据的算子等待设备",
    "reason.needs_shapes_and_gpu": "发现 fp32 GEMM 核函数；用 record_shapes=True 在硬件表中的 GPU 上采集（或给出 --device）才能预测收益",
    "method.static_shapes": "重放：输出形状依赖数据的算子改为静态形式：其同步不再等待，求尺寸的工作（核函数、计数拷贝）去掉",
    "method.mixed_precision_roofline": "重放：每个 fp32 核函数取其 bf16 时间：算子在 bf16 下的屋顶线时间除以实际运行时的屋顶线时间（TF32 或 fp32 SIMT 峰值），布局与逐元素工作的字节数减半",
    "assume.roofline_share": "每个算子在 bf16 下保持其达到的屋顶线占比",
    "assume.static_equivalent": "存在静态写法（torch.where、乘以掩码）",
    "assume.profiler_host": "主机时间是在性能分析器下测得的，分析器会拉长主机时间：受主机限制的收益是上限（用 --unprofiled-step 校准）",
    "col.operator": "算子",
    "case.000": "案例 000：批量 H2D、多实例、AI Core 控制、批大小（Atlas A3）",
    "case.001": "案例 001：动态形状、AI CPU 与 int64 算子（粗排，TP99 < 5 ms）",
    "case.002": "案例 002：CPU 瓶颈、I/O 瓶颈、内存泄漏、fp16、融合与图优化",
    "case.003": "案例 003：流水线阶段，吞吐量 = 1 / 最慢阶段",
    "case.004": "案例 004：批处理、流水线与为加速器供数",
}

TEXTS = {"en": EN, "zh": ZH}
LANGUAGES = tuple(TEXTS)
