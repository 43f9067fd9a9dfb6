"""cpu-bound: the host's pre/post-processing is a stage of its own; running it in workers ahead of
the device makes throughput 1 / the slowest stage (case 003's stage balance on one device)."""

from __future__ import annotations

from tracekit.formatting import fmt_ns, fmt_share
from tracekit.rules.common import stages
from tracekit.rules.model import (
    FIRED,
    THROUGHPUT,
    Context,
    Evidence,
    Gain,
    Outcome,
    Rule,
    not_applicable,
    not_fired,
    older_analysis,
)


def check(ctx: Context) -> Outcome:
    """CPU work that launches nothing before the step's first launch or after its last call (or in
    CPU operators between them): run it in k workers, pipelined with the rest of the step
    (whatif.pipeline); the gain decides whether it fires. One worker (plain pipelining) is the
    smaller alternative, in the actions."""
    pipeline = ctx.whatif.pipeline if ctx.whatif else None
    if pipeline is not None and pipeline.applicable and pipeline.workers_speedup is None:
        return older_analysis("whatif.pipeline.workers")
    found = stages(ctx)
    if ctx.device is None or found is None:
        return not_applicable("needs_steps_and_device")
    host, base = found.host_stage_ns, found.baseline_step_ns
    if host <= 0:
        return not_fired("no_host_stage")
    share = host / max(base, 1)
    return Outcome(
        FIRED,
        params={
            "share": fmt_share(share),
            "host": fmt_ns(host),
            "workers": found.workers,
            "pipelined": f"x{found.speedup:.2f}",
        },
        evidence=(
            Evidence("ev.host_stage", fmt_ns(host), "whatif.pipeline"),
            Evidence("ev.rest_of_step", fmt_ns(found.rest_ns), "whatif.pipeline"),
            Evidence("ev.host_share", fmt_share(share), "whatif.pipeline"),
        ),
        gain=Gain(
            metric="throughput",
            speedup=found.workers_speedup,
            method="method.cpu_bound",
            assumptions=("assume.stage_workers", "assume.overlap_host"),
            baseline_step_ns=base,
            predicted_step_ns=found.workers_step_ns,
            amdahl_bound=found.amdahl_bound,
            removable_share=share,
        ),
    )


TEXTS = {
    "en": {
        "title": "Take CPU work off the critical path",
        "summary": "The host does CPU work that launches nothing for {share} of the step ({host}): a "
        "stage of its own. In {workers} worker(s) ahead of the device the step is bounded by the slowest "
        "stage; one worker (pipelining alone) gives {pipelined}.",
        "actions.cuda": [
            "Move pre/post-processing to {workers} DataLoader workers (num_workers={workers}) or worker "
            "processes that prepare the next inputs while the GPU runs, connected by a queue; threads "
            "help only where the work releases the GIL.",
            "Or do it on the GPU (DALI, torchvision.transforms.v2 on CUDA tensors).",
        ],
        "actions.ascend": [
            "Run pre/post-processing in {workers} worker processes (or DVPP) feeding inference through a "
            "queue (case 003: static resources per stage).",
        ],
        "reason.no_host_stage": "no CPU work outside the launching code",
        "ev.host_share": "host stage share of the step",
        "ev.rest_of_step": "rest of the step",
        "method.cpu_bound": "step = max(host stage / workers, rest of the step), the host stage run by k "
        "workers ahead of the device (k: the fewest that make it no longer than the rest, at most 8)",
        "assume.stage_workers": "the host stage splits over its workers (processes, or GIL-free work)",
    },
    "zh": {
        "title": "把 CPU 工作移出关键路径",
        "summary": "主机有占一步 {share} 的 CPU 工作不下发任何任务（{host}）：它自成一个阶段。由 {workers} 个工作者提前处理时，一步受最慢阶段限制；只用一个工作者（仅流水线）为 {pipelined}。",
        "actions.cuda": [
            "把前后处理放到 {workers} 个 DataLoader 工作进程（num_workers={workers}）或工作进程中，在 GPU 运行时准备后续输入，用队列连接；线程只在工作释放 GIL 时有效。",
            "或在 GPU 上完成（DALI、对 CUDA 张量使用 torchvision.transforms.v2）。",
        ],
        "actions.ascend": [
            "在 {workers} 个工作进程（或 DVPP）中执行前后处理，通过队列为推理供数（案例 003：按阶段静态分配资源）。",
        ],
        "reason.no_host_stage": "下发代码之外没有 CPU 工作",
        "ev.host_share": "主机阶段占比",
        "ev.rest_of_step": "一步的其余部分",
        "method.cpu_bound": "一步 = max(主机阶段 / 工作者数, 一步的其余部分)，主机阶段由 k 个工作者提前执行（k：使其不长于其余部分的最少个数，至多 8）",
        "assume.stage_workers": "主机阶段可分给多个工作者（进程，或不持有 GIL 的工作）",
    },
}

RULE = Rule(id="cpu-bound", case_study="003", check=check, group=THROUGHPUT, texts=TEXTS)
