"""Every formula text the reports show, in one place: `formula(key, lang)` gives the definition `key`
in English (tracekit/analysis/definitions.py, the JSON `definitions` block) or in Simplified Chinese
(DEFINITIONS_ZH below, keyed like the English); the Ascend findings' definitions likewise
(tracekit/analysis/ascend.py, ASCEND_DEFINITIONS_ZH) and the cluster document's
(tracekit/analysis/cluster.py, CLUSTER_DEFINITIONS_ZH). The terminal summary and the HTML report both
read them; tests/unit/test_formulas.py checks that both languages have the same keys and that the
report's own text tables hold no formula.
"""

from __future__ import annotations

from tracekit.analysis.cluster import CLUSTER_DEFINITIONS
from tracekit.analysis.definitions import DEFINITIONS

_SPLIT_PARTS_ZH: dict[str, str] = {
    "compute": "|计算内核的并集|",
    "communication": "|通信内核并集减去计算|",
    "copies": "|拷贝与内存置位的并集减去计算和通信|",
    "idle": "|W| 减去这三者（没有任何操作运行）",
}
_CAUSES_ZH = {
    "sync_wait": "某个同步调用（或设备端同步）与空泡重叠",
    "host_wait": "结束空泡的那个操作的启动调用晚于空泡开始",
}
_HOTSPOT_SHARE_ZH = "组内总时长 / 所有内核时长之和"
_ALGBW_ZH = "有大小的内核的字节总和 / 时长总和（字节/ns = GB/s）"
_BUSBW_ZH = (
    "Σ(字节 × 系数) / 时长总和，系数取 nccl-tests 的定义，n 为组大小：all-reduce 2(n-1)/n；all-gather、"
    "reduce-scatter、all-to-all (n-1)/n；broadcast、send/recv 1"
)
_WAIT_RATIO_ZH = "等待时间 / (等待时间 + 传输时间)"

DEFINITIONS_ZH: dict[str, str] = {
    "window": "W = 设备操作（内核、拷贝、内存置位、通信内核）的 [最早开始, 最晚结束]；与 nsys 和 HTA 的窗口相同",
    "capture_span": "trace 中任意事件（含主机事件）的最早开始到最晚结束",
    "busy_ns": "|W 内该设备各流上操作的并集|",
    "utilization": "busy_ns / |W|",
    "utilization_sum": "操作时长之和 / |W|（nsys gpu_time_util；多流重叠时可超过 1）",
    "kernel_utilization": "|内核（计算与通信）的并集| / |W|",
    "bubbles": "W 内设备不运行任何操作、且长度 >= 阈值的极大区间",
    "bubbles.cause": f"sync_wait：{_CAUSES_ZH['sync_wait']}；否则 host_wait：{_CAUSES_ZH['host_wait']}；否则 other",
    "bubbles.cause.sync_wait": _CAUSES_ZH["sync_wait"],
    "bubbles.cause.host_wait": _CAUSES_ZH["host_wait"],
    "bubbles.cause.other": "以上两者都不是",
    "bubbles.percentiles": "最近秩：第 ceil(p/100 * n) 小的空泡",
    "copies.busy_ns": "|该方向拷贝的并集|",
    "copies.share_of_busy": "copies.busy_ns / busy_ns",
    "copies.exposed_share": "|拷贝并集减去内核并集| / |W|（未被计算掩盖的拷贝时间）",
    "copies.per_step": "步骤内的拷贝数 / 步骤数",
    "copies.bandwidth_gbps": "已知字节数的拷贝的字节总和 / 时长总和（GB/s = 字节/ns）",
    "copies.sizes": "该方向已知字节数的拷贝大小：个数、总和、均值、最小值、中位数（偶数个时取中间两个的均值）、"
    "最大值、样本标准差",
    "copies.pageable_pinned": "主机端的内存类型：H2D 的源、D2H 的目的",
    "communication.split": "把 W 按优先级 计算 > 通信 > 拷贝 > 空闲 互斥划分，每一时刻只计一次："
    + "，".join(f"{part}_ns = {text}" for part, text in _SPLIT_PARTS_ZH.items())
    + "；四者之和为 |W|",
    **{f"communication.split.{part}": text for part, text in _SPLIT_PARTS_ZH.items()},
    "communication.communication_ns": "W 内 |该设备通信内核（NCCL、HCCL 算子）的并集|",
    "communication.overlap_ratio": "overlap_ns / communication_ns，overlap_ns = |通信并集与计算内核并集的交集|"
    "（HTA 的通信/计算重叠）",
    "communication.exposed_ns": "|通信并集减去计算并集|（msprof 的 'Communication (Not Overlapped)'）；"
    "exposed_share = exposed_ns / |W|",
    "communication.collectives": "按类型（Collective name 参数，否则启动它的 c10d/nccl 算子或 NCCL NVTX 区间，否则内核或算子名）统计的通信内核：次数、"
    f"total_ns（时长之和）、busy_ns（并集）、bytes（max(输入, 输出) 消息大小）、algbw_gbps = {_ALGBW_ZH}、"
    f"busbw_gbps = {_BUSBW_ZH}",
    "communication.algbw_gbps": _ALGBW_ZH,
    "communication.busbw_gbps": _BUSBW_ZH,
    "communication.instances": "按开始时间的前 2000 个集合通信：类型、步骤、序号（该步骤内同类型集合通信按开始"
    "顺序编号 0, 1, ...）、start_ns、end_ns、bytes",
    "communication.profiler": "仅昇腾，来自 msprof 的 communication.json（其自身数值，按类型对其各步骤和算子求和）："
    "每个算子 elapse_ns = transit_ns + wait_ns + idle_ns，transit = 数据传输，wait = 等待其他 rank"
    f"（synchronization_ns：msprof 计为与其他 rank 同步的那部分等待），idle = 其余（下发）；wait_ratio = {_WAIT_RATIO_ZH}，"
    "synchronization_ratio = synchronization / (synchronization + transit)；按链路类型（HCCS、PCIE、RDMA、SDMA、SIO）"
    "给出字节（MB x 10^6）、transit_ns 和 bandwidth_gbps = 字节 / transit_ns",
    "communication.wait_ratio": _WAIT_RATIO_ZH,
    "steps.duration_ns": "主机端 ProfilerStep#N 区间的时长；分位数取最近秩",
    "steps.throughput_per_s": "1 s / 平均步骤时长：步骤依次执行时每秒的步骤数",
    "steps.series": "按开始顺序的每个步骤的时长（超过 2000 步时每隔 stride 步取一个）",
    "host.sync_calls": "主机的 cudaDeviceSynchronize / cudaStreamSynchronize 调用（昇腾上为 aclrtSynchronizeDevice / "
    "aclrtSynchronizeStream）：次数与时间（nsys 规则 cuda_api_sync）",
    "hotspots": f"按短名（去掉返回类型、模板参数和形参）分组的内核；share = {_HOTSPOT_SHARE_ZH}",
    "hotspots.share": _HOTSPOT_SHARE_ZH,
    "launch.delay": "内核开始 - (启动调用开始 + 启动调用时长)，小于 0 时取 0",
    "launch.short_kernel_share": "比自身启动调用还短的内核 / 启动调用已知的内核",
    "memory.allocated": "每次分配或释放后该设备已分配的总字节数（PyTorch profiler 的 [memory] 采样，"
    "profile_memory=True；不含 CPU 采样），覆盖整个采集；无采样时为 null。没有 Total Allocated 的 trace 给出自采集"
    "开始以来分配大小的累计和，此时水位和峰值是下界（见 trace 的警告）",
    "memory.peak_bytes": "所有采样中最大的已分配水位；peak_ns 为其时间；start_bytes 和 end_bytes 为第一个和最后"
    "一个采样的水位",
    "memory.per_step": "步骤结束时的已分配量 = 不晚于主机步骤区间结束的最后一个采样的水位（没有这么早的采样时为 "
    "null）；最多 2000 步，均匀抽样",
    "memory.growth_per_step_bytes": "步骤结束时已分配量对步骤编号的最小二乘斜率（字节/步；少于 2 步时为 null）；"
    "每步稳定泄漏 L 字节时结果为 L",
    "memory.growing_steps_share": "步骤结束时已分配量上升的相邻步骤对 / 步骤对总数",
    "memory.series": "每个采样的 (时间, 已分配量)；超过 1000 个采样时，把 [首个, 末个采样] 等分为 1000 段，"
    "每段取最大的采样",
    "timeline": "时长为中位数的那个步骤（trace 中没有步骤时取设备窗口的前 5 ms）：其主机与设备事件按通道排列，"
    "最多 3000 个（短于窗口 1/2000 的连续事件合并为一条）",
    "whatif": "重放最多 32 个均匀分布的步骤：主机调用保持实测间隔；设备操作在 max(启动调用开始 + 滞后, "
    "同一流上前一操作结束 + 间隔) 时开始，起决定作用的一项取实测值，另一项取该步骤的最小值；结果取重放步骤的"
    "中位数",
    "whatif.removable_share": "f = |改动所作用的主机与设备区间的并集| / 步骤时长；Amdahl 上限 = 1 / (1 - f)",
    "whatif.copy_cost": "在该设备的锁页 H2D 拷贝上最小二乘拟合 拷贝时长 = 固定开销 + 字节数 × 每字节开销"
    "（锁页拷贝少于 2 种大小时用全部 H2D 拷贝）",
    "whatif.engine_share": "|步骤内内核（或拷贝）的并集| / 步骤时长；主机：|驱动线程的调用与 CPU 算子的并集| "
    "减去其等待 / 步骤时长",
    "whatif.kernels": "内核时长中位数、短于 10 us 的占比、有内核的流数",
    "whatif.kernel_overlap": "1 - |内核并集| / 内核时长之和（不同流的内核同时运行的时间）",
    "whatif.pipeline": "主机阶段：设备空闲、且驱动线程不在任何调用或包含调用的 CPU 算子内的步骤时间；"
    "设备阶段：步骤内 |设备操作的并集|",
    "operations": "设备上的内核、拷贝、内存置位与通信内核之和",
    "bubbles.total_ns": "空泡长度之和",
    "bubbles.histogram": "按空泡长度的十倍分箱；第 i 箱包含 [lo, hi) 内的长度",
    "long_gaps": "W 内严格长于间隙阈值的空闲区间（nsys gpu_gaps 视图）",
    "copies.count": "设备上该方向的拷贝数",
    "copies.bytes": "已知字节数的拷贝的字节总和",
    "memset": "设备上的内存置位：次数、字节总和、时长总和",
    "blocking.pageable_async_copies": "由 cudaMemcpy*Async 发起、主机端为可分页内存的拷贝（nsys 规则 cuda_memcpy_async）",
    "blocking.sync_copies": "由不带 Async 的 cudaMemcpy* 发起的拷贝（nsys 规则 cuda_memcpy_sync）",
    "blocking.sync_memsets": "由不带 Async 的 cudaMemset* 对锁页或托管内存的置位（nsys 规则 cuda_memset_sync）",
    "hotspots.count": "该组内核的个数",
    "launch.call_p50": "内核启动调用时长的中位数（最近秩）",
    "operators.signature": "发起设备工作的 CPU 算子（外层带性能模型的算子），按名称、输入 shape 和数据类型分组",
    "operators.dtype": "算子的计算数据类型；与峰值精度不同时括号内给出峰值精度（主要在张量核上运行的 fp32 GEMM 按 tf32 计）",
    "operators.count": "具有这些 shape 和数据类型的算子调用次数",
    "operators.device_ns": "各次调用的 |该调用设备操作的并集| 之和",
    "operators.achieved_tflops": "模型的 FLOPs（各次调用之和）/ 设备时间",
    "operators.achieved_gbps": "模型的字节数（输入读一次、输出写一次；各次调用之和）/ 设备时间",
    "operators.peak_share": "屋顶线时间 / 设备时间；屋顶线时间 = max(FLOPs / 峰值，字节 / 显存带宽)",
    "operators.bound": "FLOPs / 峰值 ≥ 字节 / 显存带宽 时为计算瓶颈，否则为访存瓶颈",
    "operators.peak_tflops": "各算子所对比精度的稠密峰值 TFLOP/s",
    "operators.memory_gbps": "该硬件行的显存带宽（GB/s）",
    "whatif.attribution": "步骤关键路径的互斥划分：从步骤结束处沿着约束每个开始时刻的因素（启动调用、流内顺序、主机顺序、"
    "所等待的工作）回溯，每一纳秒只归入一个类别；各类别之和等于步骤时间",
    "attribution.share": "类别时间 / 同一步骤的步骤时间",
    "plan": "计划中的改动在重放中依次叠加（按收益贪心选择），每一项都在前面各项的基础上；"
    "累计加速比 = 基线步骤时间 / 预测步骤时间",
    "plan.gain": "本项改动前 / 后的步骤时间，在计划前面各步的基础上重放",
    "plan.predicted_step_ns": "加上本项及计划前面各项改动后的预测步骤时间（重放实测步骤；基线为其中位数）",
    "plan.cumulative_speedup": "基线步骤时间 / 本步之后的步骤时间",
    "gain.latency_cost": "时延代价 = 预测步骤时间 / 实测步骤时间（改动后的步骤完成更多工作）",
    "gain.speedup": "实测步骤时间 / 预测步骤时间（重放）；吞吐量：改动后 / 改动前每秒完成的工作",
    "gain.alternative": "单独做这项改动的收益，在实测步骤上重放；它作用于与上面这项相同的时间",
}

ASCEND_DEFINITIONS_ZH: dict[str, str] = {
    "h2d": "方向为 H2D 的 MEMCPY 任务（除非 trace 给出其他方向，即类型为 PCIE_DMA_SQE 的 MEMCPY_ASYNC），按步骤统计："
    "个数、字节、时长之和、|并集| 以及 share = |并集| / 步骤的设备跨度（该步骤首个到末个设备操作）；"
    "某一步骤中有 >= 2 个时判定为发现",
    "ai_cpu": "核类型（op_summary 的 Task Type / kernel_details 的 Accelerator Core）为 AI_CPU 的算子",
    "dynamic_shape": "OP State 为 dynamic 的算子；task_wait_ns = op_summary 中 Task Wait Time 之和（任务前设备"
    "空闲），idle_before_ns = 在时间线上测得的同一间隙",
    "int64": "有 INT64 输入（Input Data Types）的算子",
    "block_dim": "Block Dim 小于核数（info.json.N 的 ai_core_num，向量算子用 aiv_num）或不是其整数倍的 AI Core / "
    "向量算子；某类核中 >= 50% 的算子共享同一个小于核数的 block dim 时，很可能设置了全局限制（ge.aicoreNum）",
    "time_breakdown": "按步骤和设备：compute = |计算任务的并集|，communication = |集合通信的并集|，"
    "communication_not_overlapped = |集合通信减去计算|，free = 跨度 - |两者的并集|，跨度 = 首个到末个计算或"
    "通信任务；并与 Overlap Analysis 层和 step_trace_time.csv 对比",
}

CLUSTER_DEFINITIONS_ZH: dict[str, str] = {
    "cluster.rank": "distributedInfo.rank（Kineto）、Ascend rank 目录的 rank，否则为 trace 在输入中的位置",
    "cluster.per_rank": "每个 rank 最忙的设备：步骤 p50（主机步骤跨度），以及它在设备窗口上的通信划分"
    "（devices[].communication）：计算、通信（并集）、暴露的通信、拷贝、空闲",
    "cluster.slow_rank": "计算时间最多的 rank；当它超过其余 rank 的中位数 >= 5 % 时为慢 rank（否则对步骤 p50 同样判断）；"
    "z = (x - 均值) / 各 rank 的总体标准差，3 个 rank 起给出；每个 rank 都在集合通信处等它，所以它每步超出中位数的部分"
    "就是步骤会损失的时间：预测步骤 = 最慢步骤 p50 - 超出量 / 步骤数",
    "cluster.collectives": "按（步骤、类型、步骤内序号）跨 rank 匹配的集合通信；到达偏差 = 最晚开始 - 最早开始"
    "（最早的 rank 要等这么久；需要所有 rank 共用一个时钟）；时长离散 = 最长 - 最短时长（与时钟无关：早到 rank 的内核"
    "包含了它的等待）",
    "cluster.pipeline": "每个 rank 的阶段时间 = (计算 + 拷贝 + 传输) / 步骤数，传输 = 在每个 rank 上都匹配到的集合通信中"
    "各 rank 最短时长之和（纯传输，不含等待）；吞吐量 = 1 / 最慢阶段（步/秒）；均衡度 = 平均阶段 / 最慢阶段；"
    "均衡后的吞吐量 = 1 / 平均阶段；当 send/recv 是各 rank 的主要集合通信（流水线并行）时适用",
    "cluster.profiler": "Ascend：profiler 自己的 step_trace_time.csv，按步骤求和（msprof-analyze 的 "
    "cluster_step_trace_time.csv 有相同的行）",
}


_BY_LANG = {
    "en": {**DEFINITIONS, **CLUSTER_DEFINITIONS},
    "zh": {**DEFINITIONS_ZH, **CLUSTER_DEFINITIONS_ZH},
}
_KEY_OF_TEXT = {text: key for key, text in DEFINITIONS.items()}


def formula(key: str, lang: str = "en") -> str:
    """The window and formula of the number `key` in `lang` ("en" or "zh"); KeyError for a key
    without a definition."""
    return _BY_LANG[lang][key]


def ascend_formula(key: str, lang: str, english: str) -> str:
    """An Ascend finding's definition in `lang`, or `english` (the one its document gives) where
    the catalogue has none."""
    return english if lang == "en" else ASCEND_DEFINITIONS_ZH.get(key, english)


def translated_formula(text: str, lang: str) -> str:
    """`text`, one of the English definitions (e.g. a recommendation's evidence formula), in `lang`;
    any other text as it is (already in the report's language)."""
    key = _KEY_OF_TEXT.get(text)
    return text if key is None else formula(key, lang)
