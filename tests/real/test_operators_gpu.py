"""Operators on real H200 traces (tests/data/gpu/operators_*.pt.trace.json.gz, SOURCE.md): the FLOPs
match the recorded sizes and the achieved TFLOP/s is within 10 % of the CUDA-event-timed figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracekit.analysis.analyze import analyze
from tracekit.analysis.document.device import Device
from tracekit.analysis.document.operators import Operator
from tracekit.readers import read_trace

DATA = Path(__file__).resolve().parents[1] / "data" / "gpu"
TRUTH = json.loads((DATA / "operators_truth.json").read_text())["cases"]


def device(precision: str) -> Device:
    return analyze(read_trace(DATA / f"operators_{precision}.pt.trace.json.gz")).devices[0]


def cases(precision: str, operator: Operator) -> list[dict]:
    """The truth rows of one operator group (the two SDPA cases share shapes and dtypes)."""
    return [
        case
        for case in TRUTH
        if case["precision"] == precision and case["operator"] == operator.name
        and case["shapes"] == operator.shapes[: len(case["shapes"])]
    ]  # fmt: skip


@pytest.mark.parametrize("precision", ["fp32", "tf32", "bf16"])
def test_achieved_tflops_match_cuda_events(precision: str) -> None:
    operators = device(precision).operators
    assert len(operators) == (6 if precision == "bf16" else 5)
    for op in operators:
        truth = cases(precision, op)
        assert truth, op.name
        event_tflops = sum(c["flops"] for c in truth) / sum(c["median_ms"] for c in truth) / 1e9
        assert op.achieved_tflops == pytest.approx(event_tflops, rel=0.10), (op.name, op.shapes)
        assert op.count == 3 * len(truth)  # three profiled steps


@pytest.mark.parametrize("precision", ["fp32", "tf32", "bf16"])
def test_flops_are_the_recorded_sizes(precision: str) -> None:
    for op in device(precision).operators:
        if op.name != "aten::scaled_dot_product_attention":
            assert op.flops == 3 * sum(c["flops"] for c in cases(precision, op))


def test_causal_attention_counts_the_unmasked_scores() -> None:
    sdpa = next(op for op in device("bf16").operators if op.family == "attention")
    full = 4 * 8 * 16 * 2048 * 2048 * 128
    causal = 2 * 8 * 16 * (2048 * 2049 // 2) * (128 + 128)
    assert sdpa.flops == 3 * (full + causal)


def test_h200_row_precision_and_tensor_cores() -> None:
    fp32, tf32, bf16 = device("fp32"), device("tf32"), device("bf16")
    assert fp32.hardware.name == "H200 SXM"
    assert {op.precision for op in fp32.operators} == {"fp32"}
    assert {op.precision for op in tf32.operators} == {"tf32"}
    assert fp32.operators_summary.tensor_cores.share == 0.0
    assert tf32.operators_summary.tensor_cores.share == 1.0
    assert bf16.operators_summary.tensor_cores.share == 1.0
    mm = next(op for op in bf16.operators if op.name == "aten::mm")
    assert (mm.bound, round(mm.peak_share, 2)) == ("compute", 0.8)


def test_trace_without_shapes_says_so() -> None:
    summary = device("noshapes").operators_summary
    assert any("record_shapes=True" in note for note in summary.notes)
