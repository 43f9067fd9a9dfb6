"""bf16 autocast factors (tracekit/analysis/precision.py) from the H200 row of hardware.toml:
fp32 67, TF32 494.5, bf16 989.5 dense TFLOP/s, 4800 GB/s. Roofline times are in ns:
FLOPs / (TFLOP/s x 1e3) and bytes / (GB/s)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from kineto_builder import cpu_op, kernel, runtime, step, write_trace

from tracekit.analysis.columns import Columns
from tracekit.analysis.precision import _factor, bf16_effects
from tracekit.perfmodel import Cost, OpCall, estimate
from tracekit.perfmodel.hardware import Hardware, find_hardware
from tracekit.readers import read_trace

N = 4096
SQUARE = 2 * N**3  # FLOPs of a 4096^3 product
SQUARE_BYTES = 3 * N * N * 4  # two fp32 inputs read, the fp32 output written
SGEMM = "volta_sgemm_128x64_nn"  # fp32 SIMT
TF32_GEMM = "sm80_xmma_gemm_tf32f32_tf32f32_f32_nn_n_tilesize128x128x32"  # fp32 on tensor cores
ELEMENTWISE = "void at::native::vectorized_elementwise_kernel<4, at::native::AddFunctor<float>>"
CAST_NS = round(1.5 * N * N * 4 / 4800)  # read 4 + write 2 bytes per element of a 4096^2 input: 20972


@pytest.fixture
def h200() -> Hardware:
    row = find_hardware("NVIDIA H200")
    assert row is not None and row.name == "H200 SXM"
    assert (row.peak("fp32"), row.peak("tf32"), row.peak("bf16"), row.memory_gbps) == (67, 494.5, 989.5, 4800)
    return row


def _cost(name: str, *shapes: tuple[int, ...], dtype: str = "fp32") -> Cost:
    cost = estimate(OpCall(name, shapes, (dtype,) * len(shapes)))
    assert cost is not None
    return cost


# --- _factor -------------------------------------------------------------------------------------


def test_fp32_simt_gemm(h200: Hardware) -> None:
    """Compute-bound both ways: SQUARE / 67e3 = 2.05 ms >> SQUARE_BYTES / 4800 = 41.9 us, then
    SQUARE / 989.5e3 = 139 us >> 21 us: the factor is the peak ratio 67 / 989.5."""
    cost = _cost("aten::mm", (N, N), (N, N))
    assert (cost.flops, cost.bytes) == (SQUARE, SQUARE_BYTES)
    assert _factor(cost, "aten::mm", SGEMM, h200) == pytest.approx(67 / 989.5)


def test_tf32_gemm(h200: Hardware) -> None:
    """A TF32 kernel ran at the TF32 peak: SQUARE / 494.5e3 = 278 us (compute-bound) -> 494.5 / 989.5."""
    cost = _cost("aten::mm", (N, N), (N, N))
    assert _factor(cost, "aten::mm", TF32_GEMM, h200) == pytest.approx(494.5 / 989.5)


def test_memory_bound_gemv(h200: Hardware) -> None:
    """[1,4096] x [4096,4096]: 2 x 4096^2 FLOPs / 67e3 = 0.5 us << (4096 + 4096^2 + 4096) x 4 B / 4800
    = 14 us, and bf16 halves the bytes: 1/2."""
    cost = _cost("aten::mm", (1, N), (N, N))
    before = (N + N * N + N) * 4 / 4800
    assert before > cost.flops / 67e3
    assert _factor(cost, "aten::mm", "gemv2T_kernel_val", h200) == pytest.approx(0.5)


def test_layout_kernel_of_a_gemm(h200: Hardware) -> None:
    """Not the product itself (tensor_cores.OTHER): half the bytes, 1/2."""
    cost = _cost("aten::mm", (N, N), (N, N))
    assert _factor(cost, "aten::mm", "nchwToNhwcKernel", h200) == 0.5


def test_fp32_elementwise(h200: Hardware) -> None:
    assert _factor(_cost("aten::add", (N, N), (N, N)), "aten::add", ELEMENTWISE, h200) == 0.5


@pytest.mark.parametrize("operator", ["aten::softmax", "aten::layer_norm", "aten::sum", "aten::exp"])
def test_autocast_fp32_list(h200: Hardware, operator: str) -> None:
    cost = Cost("softmax", None, N * N * 8, "fp32")
    assert _factor(cost, operator, "softmax_warp_forward", h200) == 1.0


def test_other_dtype_or_no_model(h200: Hardware) -> None:
    assert _factor(_cost("aten::mm", (N, N), (N, N), dtype="bf16"), "aten::mm", TF32_GEMM, h200) == 1.0
    assert _factor(None, "aten::unknown", "some_kernel", h200) == 1.0


# --- bf16_effects on a trace with record_shapes ----------------------------------------------------


def _op(name: str, ext: int, dims: list, types: list[str], kernel_name: str, dur_us: float) -> list[dict]:
    """A CPU op at 100 x ext us with its recorded inputs, one launch and one kernel of dur_us."""
    ts = 100 * ext
    op = cpu_op(name, ts, 50, external_id=ext)
    op["args"].update({"Input Dims": dims, "Input type": types, "Concrete Inputs": [""] * len(dims)})
    launch = runtime("cudaLaunchKernel", ts + 1, 2, correlation=ext, external_id=ext)
    return [op, launch, kernel(kernel_name, ts + 5, dur_us, correlation=ext)]


def _effects_trace(tmp_path: Path) -> tuple[Columns, object]:
    square, small = [[N, N], [N, N]], [[1024, 1024], [1024, 1024]]
    fp32, bf16 = ["float", "float"], ["c10::BFloat16", "c10::BFloat16"]
    events = [
        step(1, 0, 1000),
        *_op("aten::mm", 1, square, fp32, SGEMM, 100),
        *_op("aten::mm", 2, square, fp32, TF32_GEMM, 50),
        *_op("aten::add", 3, small, fp32, ELEMENTWISE, 10),
        *_op("aten::add", 4, small, fp32, ELEMENTWISE, 4),
        *_op("aten::mul", 5, small, fp32, ELEMENTWISE, 3),  # the device's shortest kernel
        *_op("aten::softmax", 6, [[1024, 1024], [], []], ["float", "Scalar", "Scalar"], "softmax_warp", 20),
        *_op("aten::mm", 7, square, bf16, "sm90_xmma_gemm_bf16bf16_bf16f32", 30),
    ]
    trace = read_trace(write_trace(tmp_path / "t.json", events))
    return Columns.from_table(trace.events), trace


def test_bf16_effects_factors_floor_and_casts(tmp_path: Path, h200: Hardware) -> None:
    """Factors: SIMT mm 67 / 989.5, TF32 mm 494.5 / 989.5, add (10 us) 1/2; add (4 us) 1/2 raised
    to the floor 3 / 4 = 0.75; mul (3 us, the floor itself) gets none, nor do softmax (fp32 list)
    and the bf16 mm. Casts: each fp32 mm casts its two 4096^2 inputs, 20972 ns each."""
    cols, trace = _effects_trace(tmp_path)
    effects = bf16_effects(trace.events, cols, 0, h200)
    row = {cols.names[cols.name_code[r]] + f"@{cols.start[r] // 100_000}": r for r in cols.device_ops(0)}
    factors, casts = effects.among(np.arange(trace.events.num_rows))
    assert factors == pytest.approx(
        {
            row[f"{SGEMM}@1"]: 67 / 989.5,
            row[f"{TF32_GEMM}@2"]: 494.5 / 989.5,
            row[f"{ELEMENTWISE}@3"]: 0.5,
            row[f"{ELEMENTWISE}@4"]: 3 / 4,
        }
    )
    assert CAST_NS == 20972
    assert casts == {row[f"{SGEMM}@1"]: (CAST_NS, CAST_NS), row[f"{TF32_GEMM}@2"]: (CAST_NS, CAST_NS)}


def test_no_recorded_dtypes_no_prediction(tmp_path: Path, h200: Hardware) -> None:
    events = [step(1, 0, 100), cpu_op("aten::mm", 1, 50, 1), runtime("cudaLaunchKernel", 2, 2, 1, 1)]
    trace = read_trace(write_trace(tmp_path / "t.json", [*events, kernel(SGEMM, 5, 40, correlation=1)]))
    effects = bf16_effects(trace.events, Columns.from_table(trace.events), 0, h200)
    assert effects.among(np.arange(trace.events.num_rows)) == ({}, {})
