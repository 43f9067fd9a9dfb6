"""Performance models: exact FLOPs and bytes, checked by hand in each test's comment."""

from __future__ import annotations

import pytest

from tracekit.perfmodel import estimate
from tracekit.perfmodel.attention import causal_scores
from tracekit.perfmodel.calls import OpCall, ascend_call, broadcast, canonical_dtype, kineto_call
from tracekit.perfmodel.hardware import find_hardware, hardware_table
from tracekit.perfmodel.tensor_cores import OTHER, SIMT, TENSOR, kernel_unit


def call(name: str, *tensors: tuple, values: tuple[str, ...] = (), dtype: str = "fp32") -> OpCall:
    shapes = tuple(t if isinstance(t, tuple) else None for t in tensors)
    dtypes = tuple(dtype if isinstance(t, tuple) else "" for t in tensors)
    return OpCall(name, shapes, dtypes, values or ("",) * len(tensors))


def test_mm_flops_and_bytes() -> None:
    # 2·M·N·K = 2·64·32·128 = 524,288; bytes (64·128 + 128·32 + 64·32)·2 = 14,336·2 = 28,672
    cost = estimate(call("aten::mm", (64, 128), (128, 32), dtype="bf16"))
    assert (cost.family, cost.flops, cost.bytes, cost.dtype) == ("matmul", 524_288, 28_672, "bf16")


def test_addmm_counts_the_bias_add() -> None:
    # 2·8·16·4 + 8·16 = 1,024 + 128 = 1,152; bytes (16 + 8·4 + 4·16 + 8·16)·4 = 240·4 = 960
    cost = estimate(call("aten::addmm", (16,), (8, 4), (4, 16), None, None))
    assert (cost.flops, cost.bytes) == (1_152, 960)


def test_bmm_and_baddbmm() -> None:
    # bmm: 2·B·M·N·K = 2·3·4·5·6 = 720; bytes (3·4·6 + 3·6·5 + 3·4·5)·4 = (72 + 90 + 60)·4 = 888
    bmm = estimate(call("aten::bmm", (3, 4, 6), (3, 6, 5)))
    assert (bmm.flops, bmm.bytes) == (720, 888)
    # baddbmm adds B·M·N = 60
    assert estimate(call("aten::baddbmm", (3, 4, 5), (3, 4, 6), (3, 6, 5))).flops == 780


def test_matmul_broadcasts_batch_dimensions() -> None:
    # [4,1,8,16] @ [1,3,16,2]: batch 4·3 = 12, 2·12·8·2·16 = 6,144; output 12·8·2 = 192 elements;
    # bytes (4·8·16 + 3·16·2 + 192)·4 = (512 + 96 + 192)·4 = 3,200
    cost = estimate(call("aten::matmul", (4, 1, 8, 16), (1, 3, 16, 2)))
    assert (cost.flops, cost.bytes) == (6_144, 3_200)


def test_matmul_with_vectors() -> None:
    # [5] @ [5]: dot, 2·5 = 10; [2,3,5] @ [5]: 2·6·1·5 = 60
    assert estimate(call("aten::matmul", (5,), (5,))).flops == 10
    assert estimate(call("aten::matmul", (2, 3, 5), (5,))).flops == 60
    assert estimate(call("aten::matmul", (2, 3, 5), (4,))) is None  # inner dimensions differ


def test_linear_with_and_without_bias() -> None:
    # x [2,3,8], w [4,8]: rows 6, 2·6·4·8 = 384; with bias + 6·4 = 408
    assert estimate(call("aten::linear", (2, 3, 8), (4, 8), None)).flops == 384
    with_bias = estimate(call("aten::linear", (2, 3, 8), (4, 8), (4,)))
    # bytes (48 + 32 + 4 + 24)·4 = 432
    assert (with_bias.flops, with_bias.bytes) == (408, 432)


def test_convolution_dense() -> None:
    # x [2,3,8,8], w [4,3,3,3], stride 1, padding 1: out 8x8; 2·2·4·64·3·9 = 27,648
    # bytes (384 + 108 + 2·4·64)·4 = (384 + 108 + 512)·4 = 4,016
    cost = estimate(
        call("aten::conv2d", (2, 3, 8, 8), (4, 3, 3, 3), None, None, None, None, None,
             values=("", "", "", "[1, 1]", "[1, 1]", "[1, 1]", "1"))
    )  # fmt: skip
    assert (cost.family, cost.flops, cost.bytes) == ("convolution", 27_648, 4_016)


def test_convolution_grouped_strided_dilated() -> None:
    # x [1,8,9,9], w [6,4,3,3] groups 2, stride 2, padding 0, dilation 2:
    # out = floor((9 - 2·2 - 1)/2) + 1 = 3 per side; 2·1·6·9·4·9 = 3,888; bias + 1·6·9 = 54
    values = ("", "", "", "[2, 2]", "[0, 0]", "[2, 2]", "2")
    cost = estimate(
        call("aten::conv2d", (1, 8, 9, 9), (6, 4, 3, 3), (6,), None, None, None, None, values=values)
    )
    assert cost.flops == 3_888 + 54
    # aten::convolution puts groups last (index 8) and a transposed flag at 6
    conv = ("", "", "", "[2, 2]", "[0, 0]", "[2, 2]", "False", "[0, 0]", "2")
    assert (
        estimate(call("aten::convolution", (1, 8, 9, 9), (6, 4, 3, 3), None, *[None] * 6, values=conv)).flops
        == 3_888
    )


def test_convolution_1d_same_padding_and_missing_values() -> None:
    # conv1d x [1,2,10], w [3,2,5], padding 'same' (out 10): 2·1·3·10·2·5 = 600
    same = estimate(call("aten::conv1d", (1, 2, 10), (3, 2, 5), None, None, None, None, None,
                         values=("", "", "", "[1]", "'same'", "[1]", "1")))  # fmt: skip
    assert same.flops == 600
    assert estimate(call("aten::conv2d", (1, 8, 9, 9), (6, 4, 3, 3))) is None  # stride not recorded


def test_attention_without_and_with_causal_mask() -> None:
    # q,k,v [2,4,16,8]: 2·(2·4)·(16·16)·(8 + 8) = 65,536; bytes 4 tensors of 1,024 elements, bf16 = 8,192
    args = ((2, 4, 16, 8),) * 3
    full = estimate(call("aten::scaled_dot_product_attention", *args, None, None, None,
                         values=("", "", "", "", "0.", "False"), dtype="bf16"))  # fmt: skip
    assert (full.family, full.flops, full.bytes) == ("attention", 65_536, 8_192)
    # causal: 16·17/2 = 136 of the 256 scores: 2·8·136·16 = 34,816
    causal = estimate(call("aten::scaled_dot_product_attention", *args, None, None, None,
                           values=("", "", "", "", "0.", "True"), dtype="bf16"))  # fmt: skip
    assert causal.flops == 34_816


def test_causal_scores_with_more_queries_than_keys() -> None:
    # L=5, S=3: rows keep 1, 2, 3, 3, 3 = 12
    assert causal_scores(5, 3) == 12
    assert causal_scores(3, 5) == 6


def test_bytes_only_models() -> None:
    # add [4,1] + [1,6] (fp16): reads 4 + 6, writes 24 → 34·2 = 68
    add = estimate(call("aten::add", (4, 1), (1, 6), None, dtype="fp16"))
    assert (add.family, add.flops, add.bytes) == ("elementwise", None, 68)
    # in-place add_ on [4,6] with [6]: reads 24 + 6, writes 24 → 54·4 = 216
    assert estimate(call("aten::add_", (4, 6), (6,), None)).bytes == 216
    # sum over dim 1 of [4,6]: read 24, write 4 → 112; a full sum writes 1 → 100
    assert estimate(call("aten::sum", (4, 6), None, values=("", "[1]"))).bytes == 112
    assert estimate(call("aten::sum", (4, 6))).bytes == 100
    # layer_norm [4,6] with weight and bias [6]: 24 + 6 + 6 read, 24 written → 60·4 = 240
    assert estimate(call("aten::layer_norm", (4, 6), None, (6,), (6,), None)).bytes == 240
    # softmax [4,6]: 48·4 = 192
    assert estimate(call("aten::softmax", (4, 6), None, None)).bytes == 192
    assert estimate(call("aten::fill_", (4, 6), None)).bytes == 96


def test_unknown_operator_has_no_model() -> None:
    assert estimate(call("aten::nonzero", (4, 6))) is None


def test_kineto_and_ascend_arguments() -> None:
    parsed = kineto_call(
        "aten::addmm", "[[8], [2, 4], [4, 8], [], []]",
        '["c10::BFloat16", "c10::BFloat16", "c10::BFloat16", "Scalar", "Scalar"]', '["", "", "", "1", "1"]',
    )  # fmt: skip
    assert parsed.tensors() == [((8,), "bf16"), ((2, 4), "bf16"), ((4, 8), "bf16")]
    assert estimate(parsed).flops == 2 * 2 * 8 * 4 + 2 * 8
    ascend = ascend_call("MatMulV2", "32,64;128,64", "FLOAT16;FLOAT16")  # b stored transposed
    assert estimate(ascend).flops == 2 * 32 * 128 * 64
    assert canonical_dtype("DT_BF16") == "bf16"
    assert broadcast((4, 1), (3,)) == (4, 3)
    assert broadcast((2,), (3,)) is None


def test_hardware_rows_read_from_trace_names() -> None:
    assert find_hardware("NVIDIA H200").name == "H200 SXM"
    assert find_hardware("NVIDIA H100 80GB HBM3").peak("bf16") == 989.5
    assert find_hardware("NVIDIA H100 PCIe").memory_gbps == 2000
    assert find_hardware("NVIDIA A100-SXM4-80GB").name == "A100 80GB SXM"
    assert find_hardware("NVIDIA A10").name == "A10"
    assert find_hardware("NVIDIA A10G") is None
    assert find_hardware("h100 sxm").name == "H100 SXM"
    assert find_hardware("Quadro RTX 8000") is None
    names = {row.name for row in hardware_table()}
    wanted = {"V100 SXM2", "T4", "A10", "A100 40GB", "A100 80GB SXM", "L4", "L40S", "H100 SXM",
              "H100 PCIe", "H200 SXM", "B200", "MI250", "MI300X", "Ascend 910B"}  # fmt: skip
    assert wanted <= names
    assert all(row.sources for row in hardware_table() if row.peak_tflops)


@pytest.mark.parametrize(
    ("kernel", "dtype", "unit"),
    [
        ("sm80_xmma_gemm_f32f32_f32f32_f32_tn_n_tilesize256x64x8_stage3_warpsize2x2x1_ffma", "fp32", SIMT),
        ("sm90_xmma_gemm_f32f32_tf32f32_f32_nn_n_tilesize128x256x32", "fp32", TENSOR),
        ("nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT", "bf16", TENSOR),
        ("gemv2T_kernel_val<int, int, __nv_bfloat16>", "bf16", SIMT),
        ("cudnn::engines_precompiled::nchwToNhwcKernel", "bf16", OTHER),
        ("fft2d_r2c_64x64", "fp32", SIMT),
    ],
)
def test_tensor_core_kernels(kernel: str, dtype: str, unit: str) -> None:
    assert kernel_unit(kernel, dtype) == unit
