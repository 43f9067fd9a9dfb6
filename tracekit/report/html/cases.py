"""The case studies the recommendations come from, told in the report itself: a title and one line on
what each case found, so that a reader needs no file beside the report. Keyed by case id."""

from __future__ import annotations

import re

from tracekit.analysis.document.recommendations import CaseStudy

CASES: dict[str, dict[str, tuple[str, str]]] = {
    "000": {
        "en": (
            "Ascend inference tuning on Atlas A3 (10,000 inferences, 28 inputs)",
            "28 separate H2D copies took 53.6 % of each inference; batching them in one aclrtMemcpyBatch "
            "call raised throughput by 75.9 % and halved latency, 4 parallel instances gave 2.08x the "
            "throughput (latency +41.7 %), limiting the AI Cores per operator (16|16) added 19.5 %, and "
            "batch 256 instead of 128 another 95.7 %.",
        ),
        "zh": (
            "Atlas A3 上的昇腾推理调优（10,000 次推理，28 个输入）",
            "28 次独立的 H2D 拷贝占每次推理 53.6 % 的时间；用一次 aclrtMemcpyBatch 批量拷贝后吞吐提升 "
            "75.9 %、时延减半；4 个并行实例使吞吐达到 2.08 倍（时延 +41.7 %）；限制每个算子的 AI Core "
            "数（16|16）再提升 19.5 %；批大小由 128 增至 256 再提升 95.7 %。",
        ),
    },
    "001": {
        "en": (
            "Ascend coarse-ranking model under a core limit (TP99 < 5 ms)",
            "A Where operator made the following shapes dynamic, so the device waited ~7 ms per inference "
            "for the host (task_wait); a custom gather, a faster int64 Equal (230 us -> 75 us; int32 takes "
            "< 30 us), removing the AI CPU Where and reshaping a BatchMatMul took one inference from 51 ms "
            "to 4.6 ms.",
        ),
        "zh": (
            "核数受限下的昇腾粗排模型（TP99 < 5 ms）",
            "Where 算子使后续 shape 变为动态，设备每次推理等待主机约 7 ms（task_wait）；自定义 gather、"
            "重写 int64 的 Equal（230 us -> 75 us；int32 不到 30 us）、消除 AI CPU 上的 Where 并调整 "
            "BatchMatMul 后，单次推理由 51 ms 降到 4.6 ms。",
        ),
    },
    "002": {
        "en": (
            "AI inference optimization, with case studies (talk)",
            "Profile first (NVTX ranges with Nsight Systems), name the bottleneck (CPU-bound, GPU-bound, "
            "I/O-bound, memory leak), then apply fp16, kernel fusion, graphs, multiple instances or streams; "
            "Amdahl's law bounds the gain by the share of time a change touches.",
        ),
        "zh": (
            "AI 推理优化及案例研究（报告）",
            "先做性能剖析（NVTX 区间配合 Nsight Systems），判定瓶颈类型（CPU、GPU、I/O、内存泄漏），再采用 "
            "fp16、算子融合、图优化、多实例或多流；Amdahl 定律以改动所涉时间的占比界定收益上限。",
        ),
    },
    "003": {
        "en": (
            "CANN pipeline-parallel inference",
            "Pre-processing, inference and post-processing run as pipeline stages on different units; "
            "throughput is 1 / the slowest stage, so balancing the stages (2-4x in the article) matters "
            "more than speeding up a fast one.",
        ),
        "zh": (
            "CANN 流水线并行推理",
            "预处理、推理、后处理作为流水线阶段在不同计算单元上并行；吞吐量 = 1 / 最慢阶段的时间，"
            "因此平衡各阶段（文中提升 2-4 倍）比加速已经很快的阶段更重要。",
        ),
    },
    "004": {
        "en": (
            "AWS Neuron performance tuning (ResNet-50 on Inferentia)",
            "Batching raises throughput at a latency cost, NeuronCore pipelining keeps latency low; feeding "
            "the accelerator from more threads than cores and dynamic batching keep it busy.",
        ),
        "zh": (
            "AWS Neuron 性能调优（Inferentia 上的 ResNet-50）",
            "批处理以时延为代价提升吞吐，NeuronCore 流水线保持低时延；用多于核数的线程供数并采用动态批处理，"
            "使加速器保持忙碌。",
        ),
    },
}

_ID_IN_REF = re.compile(r"(?:^|/)(\d{3})_[^/]*$")
_ID_IN_TITLE = re.compile(r"\b(\d{3})\b")


def case_id(case_study: CaseStudy) -> str | None:
    """The case id of a recommendation's case study: its `id`, else read from its reference or title
    (a document written before the id)."""
    if case_study.id in CASES:
        return case_study.id
    for pattern, found in ((_ID_IN_REF, case_study.ref), (_ID_IN_TITLE, case_study.title)):
        match = pattern.search(found)
        if match and match.group(1) in CASES:
            return match.group(1)
    return None


def case_strings(lang: str) -> dict[str, str]:
    """`case.<id>.title` and `case.<id>.found` for the report's translator."""
    strings = {}
    for case, texts in CASES.items():
        title, found = texts[lang]
        strings |= {f"case.{case}.title": title, f"case.{case}.found": found}
    return strings
