"""Every leaf of the analysis document is plain Python (str, int, float, bool, None in Structs,
lists and dicts): no numpy scalar or array, no tuple where the JSON contract has a list (issue 17).
Walked twice, on the Structs' field values (msgspec keeps what a Struct was built with, a numpy
float64 included) and on plain(document); on real traces of every reader, on hand-built nsys and
Ascend traces, and on the cross-rank cluster block."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import msgspec
import numpy as np
import pytest
from ascend_builder import collective, kernel_row, python_op, task, write_rank
from conftest import GPU_DATA, ROOT, shared_trace
from kineto_builder import kernel, memcpy, nccl_kernel, step, write_trace
from nsys_builder import two_step_export

from tracekit.analysis.analyze import Options, analyze
from tracekit.analysis.cluster import cluster_block
from tracekit.analysis.document import Document, plain
from tracekit.analysis.document.recommendations import Recommendations
from tracekit.readers import read_trace, read_traces
from tracekit.rules import CHANGES, recommend, recommend_cluster

LEAVES = (str, int, float, bool, type(None))
SAMPLES = sorted((ROOT / "sample_traces").glob("*.json.gz"))
GPU_TRACES = [
    GPU_DATA / name
    for name in (
        "h2d_batched.pt.trace.json.gz",
        "memory_leak.pt.trace.json.gz",
        "operators_bf16.pt.trace.json.gz",
        "decode_graph.pt.trace.json.gz",
    )
]
CORPUS = [
    GPU_DATA / "corpus" / f"{name}.pt.trace.json.gz"
    for name in ("preprocess_workers", "item_loop", "copy_overlapped", "mask_boolean", "instances_2")
]


def impure_fields(value: object, path: str = "$") -> Iterator[str]:
    """The path and type of every value of a Struct's fields or of plain data (their lists and dicts,
    down to the leaves) whose exact type is not a plain JSON leaf (exact types: a numpy float64
    subclasses float, a bool_ does not; both are reported)."""
    if isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            yield from impure_fields(getattr(value, name), f"{path}.{name}")
    elif type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                yield f"{path} key {key!r}: {type(key).__name__}"
            yield from impure_fields(item, f"{path}.{key}")
    elif type(value) is list:
        for index, item in enumerate(value):
            yield from impure_fields(item, f"{path}[{index}]")
    elif type(value) not in LEAVES:
        yield f"{path}: {type(value).__module__}.{type(value).__qualname__}"


def _leaks(found: Iterator[str]) -> list[str]:
    return sorted({re.sub(r"\[\d+\]", "[]", leak) for leak in found})


def assert_plain(document: Document | dict) -> None:
    """No impure value in the Structs' fields, nor in the plain data the JSON is written from."""
    assert _leaks(impure_fields(document)) == []
    assert _leaks(impure_fields(plain(document) if isinstance(document, msgspec.Struct) else document)) == []


def full_document(trace) -> Document:
    """What `tracekit analyze` writes: the analysis with the rules' changes, and its recommendations."""
    document = analyze(trace, Options(), CHANGES)
    recommendations = msgspec.convert(recommend(document), Recommendations)
    return msgspec.structs.replace(document, recommendations=recommendations)


def test_the_walk_finds_numpy_scalars_arrays_and_tuples() -> None:
    leaks = list(impure_fields({"a": [1, np.float64(0.5)], "b": (1, 2), "c": {"d": np.arange(2)}, "e": True}))
    assert leaks == ["$.a[1]: numpy.float64", "$.b: builtins.tuple", "$.c.d: numpy.ndarray"]


def test_the_field_walk_finds_numpy_values_a_struct_was_built_with(tmp_path: Path) -> None:
    """msgspec does not check a Struct's constructor arguments: a numpy float64 (a float subclass)
    or int64 stays in the field, and under a free-form dict (metadata) anything goes."""
    document = analyze(read_trace(write_trace(tmp_path / "t.json", [step(1, 0, 100), kernel("k", 10, 20)])))
    assert _leaks(impure_fields(document)) == []
    device = msgspec.structs.replace(document.devices[0], utilization=np.float64(0.2), busy_ns=np.int64(20))
    trace = msgspec.structs.replace(document.trace, metadata={"gpus": [{"sm_count": np.int32(132)}]})
    leaky = msgspec.structs.replace(document, devices=[device], trace=trace)
    assert _leaks(impure_fields(leaky)) == [
        "$.devices[].busy_ns: numpy.int64",
        "$.devices[].utilization: numpy.float64",
        "$.trace.metadata.gpus[].sm_count: numpy.int32",
    ]


@pytest.mark.parametrize("path", SAMPLES + GPU_TRACES + CORPUS, ids=lambda p: p.name.split(".")[0])
def test_real_kineto_documents_are_plain(path: Path) -> None:
    assert_plain(full_document(read_trace(path)))


def test_an_even_count_median_is_a_python_float() -> None:
    """The mean of the two middle values was float + numpy int64: a numpy float64 in the document."""
    from tracekit.analysis.stats import median, summary

    assert type(median(np.array([1, 4], dtype=np.int64))) is float
    assert summary(np.array([1, 4])) == {
        "count": 2,
        "total": 5,
        "mean": 2.5,
        "min": 1,
        "median": 2.5,
        "max": 4,
        "stddev": pytest.approx(2.1213203),
    }


def test_an_nsys_export_document_is_plain(tmp_path: Path) -> None:
    document = full_document(read_trace(two_step_export().write(tmp_path / "report.sqlite")))
    assert document.trace.format == "nsys"
    assert (document.steps.count, document.devices[0].h2d.count) == (2, 2)
    assert_plain(document)


def _ascend_rank(parent: Path, rank: int, matmul_us: float) -> Path:
    """Two steps of MatMul then an all-reduce; kernel_details with the two MatMuls."""
    events, kernels = [], []
    for n, t0 in enumerate((0, 500), 1):
        events += [
            python_op(f"ProfilerStep#{n}", f"{t0}.000", 400),
            task("MatMul", f"{t0 + 10}.000", matmul_us),
            collective("hcom_allReduce__1", f"{t0 + 200}.000", 50),
            task("Add", f"{t0 + 300}.000", 2.0),
        ]
        kernels.append(kernel_row("MatMul", f"{t0 + 10}.000", str(matmul_us), step=str(n)))
    return write_rank(parent, rank, events, kernels)


def test_an_ascend_document_and_its_cluster_block_are_plain(tmp_path: Path) -> None:
    for rank, matmul_us in ((0, 100.0), (1, 150.0)):
        _ascend_rank(tmp_path / "job", rank, matmul_us)
    documents = [full_document(trace) for trace in read_traces(tmp_path / "job")]
    assert [d.trace.format for d in documents] == ["ascend", "ascend"]
    for document in documents:
        assert_plain(document)
    cluster = cluster_block(documents)
    assert cluster["ranks"] == 2
    assert_plain({"cluster": cluster, "recommendations": recommend_cluster(cluster, "en", "ascend")})


def _kineto_rank(tmp_path: Path, rank: int, compute_us: float, collective: str) -> Document:
    """Two steps: an H2D copy, compute, then a collective; distributedInfo names the rank."""
    events = []
    for n, t0 in enumerate((0, 300), 1):
        events += [
            step(n, t0, 250),
            memcpy("Memcpy HtoD (Pageable -> Device)", t0 + 2, 5, 4096),
            kernel("gemm", t0 + 10, compute_us),
            nccl_kernel(collective, t0 + 10 + compute_us, 140 - compute_us, 1 << 20, group_size=3),
        ]
    header = {"distributedInfo": {"backend": "nccl", "rank": rank, "world_size": 3}}
    return full_document(read_trace(write_trace(tmp_path / f"rank{rank}.json", events, header=header)))


@pytest.mark.parametrize("collective", ["allreduce", "send"])
def test_a_kineto_cluster_block_is_plain(tmp_path: Path, collective: str) -> None:
    documents = [
        _kineto_rank(tmp_path, rank, compute, collective) for rank, compute in ((0, 50), (1, 60), (2, 90))
    ]
    cluster = cluster_block(documents)
    assert (cluster["ranks"], cluster["slow_rank"]["rank"]) == (3, 2)
    assert cluster["collectives"]["matched"] == 2
    if collective == "send":
        assert cluster["pipeline"]["applicable"] is True
    assert_plain({"cluster": cluster, "recommendations": recommend_cluster(cluster, "en", "cuda")})


def test_a_real_ascend_cluster_is_plain() -> None:
    documents = [full_document(t) for t in read_traces(shared_trace("msprof/msinsight-torchnpu-level1"))]
    assert len(documents) == 2
    for document in documents:
        assert_plain(document)
    cluster = cluster_block(documents)
    assert_plain({"cluster": cluster, "recommendations": recommend_cluster(cluster, "en", "ascend")})
