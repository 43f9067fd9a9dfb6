"""The operator table on tiny hand-built traces: attribution, grouping, FLOPs, roofline and notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kineto_builder import cpu_op, kernel, runtime, step
from nsys_builder import Export

from tracekit.analysis.analyze import Options, analyze
from tracekit.analysis.document import plain
from tracekit.analysis.document.device import Device
from tracekit.analysis.document.operators import Operator
from tracekit.readers import read_trace

GPU = [{"id": 0, "name": "NVIDIA H100 80GB HBM3", "computeMajor": 9, "computeMinor": 0, "numSms": 132}]


def shaped(name: str, ts: float, dur: float, external_id: int, dims: list, types: list, values: list) -> dict:
    event = cpu_op(name, ts, dur, external_id)
    event["args"].update({"Input Dims": dims, "Input type": types, "Concrete Inputs": values})
    return event


def events() -> list[dict]:
    fp32 = ["float", "float", "float"]
    return [
        step(1, 0, 200),
        # linear -> addmm -> one SIMT GEMM kernel of 10 µs: reported under aten::linear
        shaped("aten::linear", 10, 30, 1, [[4, 8], [16, 8], [16]], fp32, ["", "", ""]),
        shaped(
            "aten::addmm",
            12,
            20,
            2,
            [[16], [4, 8], [8, 16], [], []],
            [*fp32, "Scalar", "Scalar"],
            ["", "", "", "1", "1"],
        ),
        runtime("cudaLaunchKernel", 14, 2, correlation=1, external_id=2),
        kernel("ampere_sgemm_64x64_nn", 50, 10, correlation=1),
        # one add whose two kernels overlap on two streams: 70..80 and 75..85 -> 15 µs of device time
        shaped("aten::add", 60, 8, 3, [[4, 16], [4, 16], []], [*fp32[:2], "Scalar"], ["", "", "1"]),
        runtime("cudaLaunchKernel", 61, 1, correlation=2, external_id=3),
        runtime("cudaLaunchKernel", 63, 1, correlation=3, external_id=3),
        kernel("vectorized_elementwise_kernel", 70, 10, correlation=2, stream=7),
        kernel("vectorized_elementwise_kernel", 75, 10, correlation=3, stream=8),
        # a launch without an external id: found by time inside aten::relu
        shaped("aten::relu", 100, 10, 4, [[4, 16]], ["float"], [""]),
        runtime("cudaLaunchKernel", 102, 1, correlation=4, external_id=0),
        kernel("relu_kernel", 120, 2, correlation=4),
        # no launch call at all: not attributed
        kernel("orphan_kernel", 150, 3),
    ]


def write(path: Path, evs: list[dict], gpus: list[dict] | None = GPU) -> Path:
    document = {"schemaVersion": 1, "traceEvents": evs}
    if gpus is not None:
        document["deviceProperties"] = gpus
    path.write_text(json.dumps(document))
    return path


def device_block(path: Path, **options: object) -> Device:
    return analyze(read_trace(path), Options(**options)).devices[0]


@pytest.fixture
def device(tmp_path: Path) -> Device:
    return device_block(write(tmp_path / "t.json", events()))


def by_name(device: Device) -> dict[str, Operator]:
    return {op.name: op for op in device.operators}


def test_grouped_under_the_outermost_modelled_operator(device: Device) -> None:
    ops = by_name(device)
    assert set(ops) == {"aten::linear", "aten::add", "aten::relu"}
    linear = ops["aten::linear"]
    assert (linear.shapes, linear.dtypes, linear.count, linear.device_ns) == (
        [[4, 8], [16, 8], [16]], ["fp32"] * 3, 1, 10_000,
    )  # fmt: skip
    assert plain(linear.kernels) == [{"name": "ampere_sgemm_64x64_nn", "count": 1, "device_ns": 10_000}]


def test_flops_bytes_and_roofline_on_h100(device: Device) -> None:
    linear = by_name(device)["aten::linear"]
    # 2·4·16·8 + 4·16 = 1,088 FLOPs; (32 + 128 + 16 + 64)·4 = 960 bytes
    assert (linear.flops, linear.bytes) == (1_088, 960)
    assert linear.achieved_tflops == pytest.approx(1_088 / 10_000 / 1e3)
    assert linear.achieved_gbps == pytest.approx(0.096)
    # SIMT kernel: the fp32 peak, 67 TFLOP/s: 1,088 / 67e3 ns = 0.0162 ns < 960 / 3,350 = 0.2866 ns
    assert (linear.precision, linear.peak_tflops, linear.bound) == ("fp32", 67.0, "memory")
    assert linear.roofline_ns == pytest.approx(960 / 3350)
    assert linear.peak_share == pytest.approx(960 / 3350 / 10_000)
    assert (linear.tensor_core_ns, linear.simt_ns) == (0, 10_000)
    assert device.hardware.name == "H100 SXM"
    assert device.hardware.source == "trace"


def test_overlapping_kernels_of_one_call_count_once(device: Device) -> None:
    add = by_name(device)["aten::add"]
    assert add.device_ns == 15_000
    assert plain(add.kernels[0]) == {"name": "vectorized_elementwise_kernel", "count": 2, "device_ns": 20_000}
    # bytes only: (64 + 64 + 64)·4 = 768
    assert (add.family, add.flops, add.bytes, add.bound) == ("elementwise", None, 768, "memory")


def test_launch_found_by_time_and_orphans_noted(device: Device) -> None:
    assert by_name(device)["aten::relu"].device_ns == 2_000
    summary = device.operators_summary
    assert (summary.device_ns, summary.attributed_ns) == (35_000, 32_000)
    assert plain(summary.tensor_cores) == {
        "gemm_conv_ns": 10_000,
        "tensor_core_ns": 0,
        "simt_ns": 10_000,
        "share": 0.0,
    }
    assert "8.6% of device time has no launching CPU operator and is not in the table" in summary.notes


def test_unknown_gpu_gives_flops_without_peak(tmp_path: Path) -> None:
    unknown = [{**GPU[0], "name": "Quadro RTX 8000"}]
    device = device_block(write(tmp_path / "t.json", events(), unknown))
    linear = by_name(device)["aten::linear"]
    assert linear.flops == 1_088 and linear.achieved_tflops is not None
    assert (linear.peak_share, linear.bound, device.hardware) == (None, None, None)
    assert any("'Quadro RTX 8000' is not in the hardware table" in n for n in device.operators_summary.notes)


def test_device_option_overrides_the_trace(tmp_path: Path) -> None:
    device = device_block(write(tmp_path / "t.json", events(), None), device="A100 80GB SXM")
    assert (device.hardware.name, device.hardware.source) == ("A100 80GB SXM", "option")
    assert by_name(device)["aten::linear"].peak_tflops == 19.5


def test_trace_without_shapes_has_a_note(tmp_path: Path) -> None:
    unshaped = [
        step(1, 0, 50),
        cpu_op("aten::mm", 10, 5, 1),
        runtime("cudaLaunchKernel", 11, 1, correlation=1, external_id=1),
        kernel("sgemm", 20, 4, correlation=1),
    ]
    device = device_block(write(tmp_path / "t.json", unshaped))
    assert [(op.name, op.shapes, op.flops, op.device_ns) for op in device.operators] == [
        ("aten::mm", [], None, 4_000)
    ]
    assert any("record_shapes=True" in n for n in device.operators_summary.notes)


def test_nsys_export_has_a_note_and_its_gpu(tmp_path: Path) -> None:
    export = Export()
    corr = export.call("cudaLaunchKernel", 1_000, 2_000)
    export.kernel("gemm_kernel", 5_000, 9_000, correlation=corr)
    columns = "id INTEGER, name TEXT, smCount INTEGER, memoryBandwidth INTEGER, clockRate INTEGER"
    export.table("TARGET_INFO_GPU", columns, [(0, "NVIDIA H200", 132, 4_800_000_000_000, 1_980_000_000)])
    device = device_block(export.write(tmp_path / "e.sqlite"))
    assert device.operators == []
    assert device.hardware.name == "H200 SXM"
    assert any("no CPU operators" in n for n in device.operators_summary.notes)


def test_launch_on_a_thread_without_cpu_operators_is_not_attributed(tmp_path: Path) -> None:
    """A launch with no external id on a thread that has no CPU operator: no launching operator
    (the search by time finds none), whatever the other thread holds at that time."""
    other_thread = {**runtime("cudaLaunchKernel", 104, 1, correlation=5), "tid": 999}
    evs = [*events(), other_thread, kernel("stray_kernel", 160, 4, correlation=5)]
    summary = device_block(write(tmp_path / "t.json", evs)).operators_summary
    assert (summary.device_ns, summary.attributed_ns) == (39_000, 32_000)
