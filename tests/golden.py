"""Golden snapshots: the key numbers and ranked recommendations of every real trace, kept in
tests/data/golden/ so that any change to them shows in review (`pytest --update-golden` rewrites them).
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SHARED_TRACES  # noqa: F401 (test_golden reads it here): ../shared, or TRACEKIT_SHARED

from tracekit.analysis.analyze import analyze
from tracekit.analysis.document import plain
from tracekit.analysis.document.device import CopySummary, Device
from tracekit.errors import TraceError
from tracekit.readers import read_traces
from tracekit.rules import CHANGES, recommend

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "golden"
DIRECTIONS = ("h2d", "d2h", "d2d")

SHARED_INPUTS = (
    "kineto/hta/negative_queue_length_values_check/rank0.json.gz",
    "kineto/hta/critical_path/cuda_event_sync/event_sync_trace.json.gz",
    "kineto/hta/critical_path/simple_add/benchmark_result_493459_1694039959_trace.json.gz",
    "kineto/hta/trace_diff/test/test.json.gz",
    "kineto/hta/trace_diff/control/control.json.gz",
    "kineto/hta/trace_file_list/inference_rank_1.json.gz",
    "kineto/hta/timeline_analysis/sampled_rank-0.json.gz",
    "kineto/hta/amd_trace/mi250_minitoy_train_ROCm6_2_kineto.json.gz",
    "kineto/kineto-tbplugin-resnet50/worker0.1623143089861.pt.trace.json.gz",
    "nsys/fuser/a0498920/report1.sqlite",
    "nsys/fuser/a0498920/nsys2025.3/report1.sqlite",
    "nsys/fuser/a0498920/nsys2025.3/report1.json",
    "nsys/fuser/a0498920/nsys2025.3/report1_cuda_gpu_trace.csv",
    "nsys/fuser/8fa9ec29/report1.sqlite",
    "nsys/fuser/8fa9ec29/nsys2025.3/report1.sqlite",
    "nsys/fuser/8fa9ec29/nsys2025.3/report1.json",
    "nsys/fuser/8fa9ec29/nsys2025.3/report1_cuda_gpu_trace.csv",
    "nsys/mordred/ad27a343/report1.sqlite",
    "nsys/mordred/ad27a343/nsys2025.3/report1.sqlite",
    "nsys/mordred/03527a5d/report1.sqlite",
    "nsys/lighttransport-gemm/profile.sqlite",
    "nsys/jacc/report1.sqlite",
    "nsys/nsys-ai-fixtures/mock.sqlite",
    "nsys/nsys-ai-fixtures/h100_2gpu_1s.sqlite",
    "msprof/msinsight-torchnpu-level0/rank0_ascend_pt",
    "msprof/msinsight-torchnpu-level1",
    "msprof/msinsight-torchnpu-level2/rank0_ascend_pt",
    "msprof/msinsight-torchnpu-db-level1/rank0_ascend_pt",
    "msprof/msinsight-msprof-db/msprof_0.db",
    "msprof/msinsight-cluster",
    "msprof/msinsight-cluster/test_kernel_parse/op_summary_1.csv",
    "msprof/msprof-analyze-testdata/timeline_advice/trace_view.json",
)
LOCAL_INPUTS = tuple(
    str(p.relative_to(ROOT))
    for folder in ("tests/data/gpu", "sample_traces")
    for p in sorted((ROOT / folder).rglob("*.json.gz"))
)


def golden_name(relative: str) -> str:
    """The snapshot file of an input: its path with / as __."""
    return relative.replace("/", "__") + ".golden.json"


def snapshot(path: Path) -> list[dict[str, object]]:
    """The key numbers of each rank (one entry for a single trace); a refused input, its problem."""
    try:
        traces = read_traces(path)
    except TraceError as exc:
        return [{"refused": exc.problem}]
    return [key_numbers(trace) for trace in traces]


def key_numbers(trace) -> dict[str, object]:
    """What a reviewer checks: events, steps, per-device busy time, copies, bubbles, top kernels,
    host syncs, and the ranked recommendation ids with their gains (3 significant digits)."""
    document = analyze(trace, changes=CHANGES)
    recommendations = recommend(document, "en")
    return {
        "format": trace.format,
        "events": trace.events.num_rows,
        "warnings": len(trace.metadata.get("warnings", [])),
        "steps": {"count": document.steps.count, "duration_ns": plain(document.steps.duration_ns)},
        "devices": [_device(device) for device in document.devices],
        "host_sync_calls": document.host.sync_calls.count,
        "recommendations": [
            [fired.id, _round(fired.gain.speedup if fired.gain else None)] for fired in recommendations.fired
        ],
    }


def _device(device: Device) -> dict[str, object]:
    copies = {d: _copies(device.copies(d)) for d in DIRECTIONS}
    return {
        "id": device.id,
        "operations": device.operations,
        "window_ns": device.window_ns,
        "busy_ns": device.busy_ns,
        "kernel_busy_ns": device.kernel_busy_ns,
        "copies": copies,
        "bubbles": [device.bubbles.count, device.bubbles.total_ns],
        "hotspots": [[h.name, h.count, h.total_ns] for h in device.hotspots[:5]],
    }


def _copies(summary: CopySummary) -> list[int]:
    return [summary.count, summary.bytes, summary.total_ns]


def _round(value: object) -> object:
    return float(f"{value:.3g}") if isinstance(value, float) else value


def write(relative: str, numbers: list[dict[str, object]]) -> None:
    """Rewrite one snapshot."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    (GOLDEN / golden_name(relative)).write_text(json.dumps(numbers, indent=1, ensure_ascii=False) + "\n")


def read(relative: str) -> list[dict[str, object]] | None:
    """One snapshot, or None when it was never written."""
    path = GOLDEN / golden_name(relative)
    return json.loads(path.read_text()) if path.exists() else None
