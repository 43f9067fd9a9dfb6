"""The typed analysis document (tracekit/analysis/document/): every document of real and built traces
encodes to JSON that decodes back to an equal Document and reads as plain() says; the previous
release's documents decode without losing a value; a field of the wrong type fails decode with
msgspec.ValidationError naming its path (issue 17, docs/json.md "The typed document")."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from ascend_builder import collective, kernel_row, python_op, step_trace_row, task, write_rank
from conftest import GPU_DATA, ROOT, shared_trace
from kineto_builder import cpu_op, kernel, memcpy, memory, nccl_kernel, runtime, step, write_trace
from nsys_builder import two_step_export

from tracekit.analysis.analyze import Options, analyze
from tracekit.analysis.document import SCHEMA, Document, decode, encode, plain
from tracekit.analysis.document.recommendations import Recommendations
from tracekit.model.trace import Trace
from tracekit.readers import read_trace
from tracekit.rules import CHANGES, recommend

COMPAT = ROOT / "tests" / "data" / "compat"
SAMPLES = sorted((ROOT / "sample_traces").glob("*.json.gz"))
GPU_NAMES = ("h2d_batched", "memory_leak", "operators_bf16", "decode_graph")
GPU_TRACES = [GPU_DATA / f"{name}.pt.trace.json.gz" for name in GPU_NAMES]
SHARED = [
    "kineto/hta/timeline_analysis/sampled_rank-0.json.gz",
    "kineto/hta/amd_trace/mi250_minitoy_train_ROCm6_2_kineto.json.gz",
    "kineto/kineto-tbplugin-resnet50/worker0.1623143089861.pt.trace.json.gz",
    "nsys/mordred/03527a5d/report1.sqlite",
    "nsys/nsys-ai-fixtures/mock.sqlite",
    "nsys/fuser/a0498920/nsys2025.3/report1.json",
    "msprof/msinsight-torchnpu-level1/rank0_ascend_pt",
    "msprof/msinsight-torchnpu-db-level1/rank0_ascend_pt",
    "msprof/msinsight-msprof-db",
]


def full_document(trace: Trace) -> Document:
    """What `tracekit analyze` writes: the analysis with the rules' changes, and its recommendations."""
    document = analyze(trace, Options(), CHANGES)
    recommendations = msgspec.convert(recommend(document), Recommendations)
    return msgspec.structs.replace(document, recommendations=recommendations)


def assert_round_trip(document: Document) -> None:
    data = encode(document)
    assert decode(data) == document
    assert json.loads(data) == plain(document)


# --- built traces: every block the readers can fill -------------------------------------------------


def _kineto(tmp: Path) -> Path:
    """Two steps: an operator with shapes launching a GEMM, pageable and pinned H2D, a D2H, an
    all-reduce, memory samples that grow."""
    events = []
    for n, t0 in enumerate((0, 300), 1):
        op = cpu_op("aten::mm", t0 + 5, 20, external_id=n)
        op["args"].update({"Input Dims": [[64, 32], [32, 16]], "Input type": ["float", "float"]})
        events += [
            step(n, t0, 250),
            memcpy("Memcpy HtoD (Pageable -> Device)", t0 + 2, 5, 4096),
            memcpy("Memcpy HtoD (Pinned -> Device)", t0 + 8, 3, 1024),
            op,
            runtime("cudaLaunchKernel", t0 + 10, 2, correlation=n, external_id=n),
            kernel("void gemm<float>(int)", t0 + 15, 60, correlation=n),
            nccl_kernel("allreduce", t0 + 80, 50, 1 << 16, group_size=4),
            memcpy("Memcpy DtoH (Device -> Pinned)", t0 + 140, 4, 512),
            runtime("cudaStreamSynchronize", t0 + 135, 10),
            memory(t0 + 20, 2048, 2048 * n),
        ]
    return write_trace(tmp / "built.pt.trace.json", events)


def _nsys(tmp: Path) -> Path:
    return two_step_export().write(tmp / "built.sqlite")


def _ascend(tmp: Path) -> Path:
    """Two steps of an AI-CPU Where, a MatMul and an all-reduce, with kernel_details, core counts and
    step_trace_time."""
    events, kernels = [], []
    for n, t0 in enumerate((0, 500), 1):
        events += [
            python_op(f"ProfilerStep#{n}", f"{t0}.000", 400),
            task("Where", f"{t0 + 5}.000", 4.0, "AI_CPU"),
            task("MatMul", f"{t0 + 10}.000", 100.0),
            collective("hcom_allReduce__1_0_1", f"{t0 + 200}.000", 50),
        ]
        kernels += [
            kernel_row("Where", f"{t0 + 5}.000", "4.0", core="AI_CPU", op_type="Where", step=str(n)),
            kernel_row("MatMul", f"{t0 + 10}.000", "100.0", block="16", step=str(n)),
        ]
    rows = [step_trace_row(n, "100.0", "50.0", "50.0", "250.0", "400.0") for n in (1, 2)]
    info = {"ai_core_num": 24, "aiv_num": 48}
    return write_rank(tmp, 0, events, kernels, step_trace=rows, device_info=info)


BUILT: dict[str, Callable[[Path], Path]] = {"kineto": _kineto, "nsys": _nsys, "ascend": _ascend}


@pytest.mark.parametrize("name", BUILT)
def test_a_built_trace_document_round_trips(name: str, tmp_path: Path) -> None:
    document = full_document(read_trace(BUILT[name](tmp_path)))
    assert document.trace.format == name
    assert document.steps.count == 2 and document.recommendations is not None
    assert_round_trip(document)


def test_the_built_kineto_trace_fills_the_optional_blocks(tmp_path: Path) -> None:
    """The round trip above covers communication, memory, operators and what-if, not only nulls."""
    (device,) = full_document(read_trace(_kineto(tmp_path))).devices
    assert device.communication.collectives[0].type == "all_reduce"
    assert device.memory.per_step[-1].allocated_bytes == 4096
    assert device.operators[0].name == "aten::mm"
    assert device.whatif.steps_replayed == 2 and len(device.whatif.attribution.steps) == 2


def test_the_built_ascend_trace_fills_the_ascend_block(tmp_path: Path) -> None:
    ascend = full_document(read_trace(_ascend(tmp_path))).ascend
    assert ascend.source.core_counts["ai_core"] == 24
    assert ascend.ai_cpu.count == 2 and ascend.block_dim.evaluated is True
    assert len(ascend.time_breakdown) == 2 and ascend.time_breakdown[0].step_trace_time is not None


# --- real traces ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES + GPU_TRACES, ids=lambda p: p.name.split(".")[0])
def test_a_kept_trace_document_round_trips(path: Path) -> None:
    assert_round_trip(full_document(read_trace(path)))


@pytest.mark.parametrize("relative", SHARED)
def test_a_shared_trace_document_round_trips(relative: str) -> None:
    assert_round_trip(full_document(read_trace(shared_trace(relative))))


# --- the previous release's documents ---------------------------------------------------------------


def _compat_text(name: str) -> str:
    path = COMPAT / name
    return gzip.decompress(path.read_bytes()).decode() if name.endswith(".gz") else path.read_text()


def _lost(original: object, decoded: object, path: str = "$") -> list[str]:
    """The paths of the values of `original` that `decoded` does not keep (keys may be added)."""
    if isinstance(original, dict) and isinstance(decoded, dict):
        missing = [f"{path}.{key}" for key in original if key not in decoded]
        kept = [(f"{path}.{key}", value, decoded[key]) for key, value in original.items() if key in decoded]
    elif isinstance(original, list) and isinstance(decoded, list) and len(original) == len(decoded):
        missing = []
        kept = [(f"{path}[{i}]", a, b) for i, (a, b) in enumerate(zip(original, decoded, strict=True))]
    else:
        return [] if original == decoded and type(original) is type(decoded) else [path]
    return missing + [lost for where, a, b in kept for lost in _lost(a, b, where)]


@pytest.mark.parametrize(
    "name",
    [
        "h2d28_separate.analysis.json",
        "sim_case000_baseline.analysis.json",
        "ascend_level1_rank0.analysis.json.gz",
    ],
)
def test_a_previous_release_document_decodes_keeping_every_value(name: str) -> None:
    text = _compat_text(name)
    document = decode(text)
    assert document.schema == SCHEMA
    assert _lost(json.loads(text), plain(document)) == []
    # added since that release (docs/json.md, Compatibility): absent there, None or empty here
    assert document.trace.marker_names == []
    assert all(device.communication is None for device in document.devices)
    assert all(device.whatif is None or device.whatif.fuse_elementwise is None for device in document.devices)
    assert decode(encode(document)) == document


def test_the_loss_check_sees_a_dropped_or_changed_value() -> None:
    original = {"a": [1, {"b": 2.5}], "c": None}
    assert _lost(original, {"a": [1, {"b": 2.5}], "c": None, "new": 1}) == []
    assert _lost(original, {"a": [1, {}], "c": None}) == ["$.a[1].b"]
    assert _lost(original, {"a": [1, {"b": 2}], "c": None}) == ["$.a[1].b"]  # 2.5 -> 2, int for float
    assert _lost(original, {"a": [1], "c": None}) == ["$.a"]


# --- decode names what does not fit ------------------------------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A small document's JSON, as json.loads gives it."""
    path = write_trace(tmp_path_factory.mktemp("t") / "t.json", [step(1, 0, 100), kernel("k", 10, 20)])
    return json.loads(encode(full_document(read_trace(path))))


def _set(document: dict, path: tuple, value: object) -> None:
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = value


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("devices", 0, "h2d", "count"),
            "many",
            r"Expected `int`, got `str` - at `\$\.devices\[0\]\.h2d\.count`",
        ),
        (("devices", 0, "window_ns"), None, r"Expected `int`, got `null` - at `\$\.devices\[0\]\.window_ns`"),
        (
            ("devices", 0, "hotspots", 0, "share"),
            [],
            r"Expected `float`, got `array` - at `\$\.devices\[0\]\.hotspots\[0\]\.share`",
        ),
        (("steps", "duration_ns"), 5, r"Expected `object`, got `int` - at `\$\.steps\.duration_ns`"),
        (
            ("recommendations", "fired"),
            {},
            r"Expected `array`, got `object` - at `\$\.recommendations\.fired`",
        ),
        (("trace", "events"), 1.5, r"Expected `int`, got `float` - at `\$\.trace\.events`"),
    ],
)
def test_a_field_of_the_wrong_type_fails_decode_naming_its_path(
    written: dict, path: tuple, value: object, message: str
) -> None:
    assert decode(json.dumps(written)) is not None  # the untouched document decodes
    broken = json.loads(json.dumps(written))
    _set(broken, path, value)
    with pytest.raises(msgspec.ValidationError, match=message):
        decode(json.dumps(broken))


def test_a_missing_field_fails_decode_naming_the_block(written: dict) -> None:
    broken = json.loads(json.dumps(written))
    del broken["devices"][0]["bubbles"]["count"]
    with pytest.raises(
        msgspec.ValidationError, match=r"missing required field `count` - at `\$\.devices\[0\]\.bubbles`"
    ):
        decode(json.dumps(broken))
