"""NCCL's NVTX payloads on nsys exports: message sizes, rank counts and peers decoded through the
export's payload schemas and carried onto the kernels the ranges launched (docs/metrics.md,
"Communication"; readers/nsys/nvtx_payloads.py, nccl_sizes.py)."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import msgspec
import pytest
from conftest import SHARED_ABSENT, shared_trace
from nsys_builder import (
    COLLECTIVE,
    COMM_INIT,
    GLOBAL_PID,
    NCCL_SCHEMA_ENTRIES,
    NCCL_SCHEMAS,
    RECV,
    SCHEMA_TABLES,
    SEND,
    Export,
    payload_blob,
)

from tracekit.analysis.analyze import analyze
from tracekit.readers import read_trace

COMM, OTHER_COMM = 0xC0FFEE1234, 0xBAD
MESSAGE, PEER, RANKS = "Message size [bytes]", "Peer rank", "No. of ranks"


def _init(e: Export, comm: int = COMM, ranks: int = 4, start: int = 100) -> None:
    values = {"NCCL communicator ID": comm, RANKS: ranks, "Rank": 1, "CUDA device": 0}
    e.nvtx_payload("ncclCommInitRank", start, start + 50, payload_blob(COMM_INIT, values))


def _collective(e: Export, name: str, t0: int, dur: int, blob: bytes | None, kernel: str, **kw) -> None:
    """NCCL's range [t0, t0 + 100] around the launch call [t0 + 10, t0 + 20]; the kernel runs
    [t0 + 200, t0 + 200 + dur] on stream 20."""
    e.nvtx_payload(name, t0, t0 + 100, blob, **kw)
    e.kernel(kernel, t0 + 200, t0 + 200 + dur, e.call("cudaLaunchKernel", t0 + 10, t0 + 20), stream=20)


def _sized(schema: int, size: int, comm: int = COMM, **extra: int) -> bytes:
    return payload_blob(schema, {"NCCL communicator ID": comm, MESSAGE: size, **extra})


def _four_collectives(tmp_path: Path) -> Path:
    """A 4-rank communicator: an all-reduce of 1 MiB in 1000 ns, an all-gather of 4000 bytes in
    500 ns, a send of 2048 bytes to rank 2 and a receive of 1024 bytes from rank 3, 256 ns each."""
    e = Export()
    _init(e)
    _collective(
        e, "ncclAllReduce", 1000, 1000, _sized(COLLECTIVE, 1 << 20), "ncclDevKernel_AllReduce_Sum_f32"
    )
    _collective(e, "ncclAllGather", 3000, 500, _sized(COLLECTIVE, 4000), "ncclDevKernel_AllGather_RING_LL")
    _collective(e, "ncclSend", 5000, 256, _sized(SEND, 2048, **{PEER: 2}), "ncclDevKernel_SendRecv")
    _collective(e, "ncclRecv", 7000, 256, _sized(RECV, 1024, **{PEER: 3}), "ncclDevKernel_SendRecv")
    return e.write(tmp_path / "nccl.sqlite")


def _kernel_columns(path: Path) -> list[tuple]:
    events = read_trace(path).events
    rows = events.filter(events.column("kind").to_numpy() == 3).to_pylist()
    return [(r["name"], r["bytes"], r.get("group_size"), r.get("peer")) for r in rows]


def _communication(path: Path) -> dict:
    return msgspec.to_builtins(analyze(read_trace(path)).devices[0].communication)


def test_builder_schemas_are_those_of_the_real_export() -> None:
    path = shared_trace("nsys/nsys-ai-fixtures/h100_2gpu_1s.sqlite")
    if not path.exists():
        pytest.skip(SHARED_ABSENT)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        schemas = db.execute("SELECT * FROM NVTX_PAYLOAD_SCHEMAS").fetchall()
        entries = db.execute("SELECT * FROM NVTX_PAYLOAD_SCHEMA_ENTRIES").fetchall()
    assert sorted(set(schemas), key=repr) == sorted(NCCL_SCHEMAS, key=repr)
    assert sorted(set(entries), key=repr) == sorted(NCCL_SCHEMA_ENTRIES, key=repr)
    assert len(schemas) == 2 * len(NCCL_SCHEMAS)  # each row twice, as the builder writes them


def test_message_size_rank_count_and_peer_reach_the_kernels_they_launched(tmp_path: Path) -> None:
    assert _kernel_columns(_four_collectives(tmp_path)) == [
        ("ncclDevKernel_AllReduce_Sum_f32", 1 << 20, 4, -1),
        ("ncclDevKernel_AllGather_RING_LL", 4000, 4, -1),
        ("ncclDevKernel_SendRecv", 2048, 4, 2),
        ("ncclDevKernel_SendRecv", 1024, 4, 3),
    ]
    assert read_trace(tmp_path / "nccl.sqlite").metadata.get("warnings", []) == []


def test_bytes_algbw_and_busbw_follow_nccl_tests(tmp_path: Path) -> None:
    collectives = _communication(_four_collectives(tmp_path))["collectives"]
    assert [(c["type"], c["count"], c["bytes"], c["bytes_unknown_count"]) for c in collectives] == [
        ("all_reduce", 1, 1 << 20, 0), ("all_gather", 1, 4000, 0), ("send_recv", 2, 3072, 0),
    ]  # fmt: skip
    by_type = {c["type"]: c for c in collectives}
    assert by_type["all_reduce"]["algbw_gbps"] == pytest.approx(1048.576)  # bytes / ns = GB/s
    assert by_type["all_reduce"]["busbw_gbps"] == pytest.approx(1048.576 * 2 * 3 / 4)  # 2(n-1)/n
    assert by_type["all_gather"]["algbw_gbps"] == pytest.approx(8.0)
    assert by_type["all_gather"]["busbw_gbps"] == pytest.approx(6.0)  # (n-1)/n
    assert by_type["send_recv"]["algbw_gbps"] == pytest.approx(3072 / 512)
    assert by_type["send_recv"]["busbw_gbps"] == pytest.approx(3072 / 512)  # factor 1
    assert _communication(tmp_path / "nccl.sqlite")["instances"]["bytes"] == [1 << 20, 4000, 2048, 1024]


def test_a_communicator_without_its_init_payload_has_no_bus_bandwidth(tmp_path: Path) -> None:
    e = Export()
    _init(e, ranks=8)
    _collective(e, "ncclAllReduce", 1000, 100, _sized(COLLECTIVE, 800), "ncclDevKernel_AllReduce")
    _collective(
        e, "ncclAllReduce", 2000, 100, _sized(COLLECTIVE, 1200, OTHER_COMM), "ncclDevKernel_AllReduce"
    )
    path = e.write(tmp_path / "t.sqlite")
    assert [row[1:3] for row in _kernel_columns(path)] == [(800, 8), (1200, -1)]
    (all_reduce,) = _communication(path)["collectives"]
    assert all_reduce["algbw_gbps"] == pytest.approx(2000 / 200)  # both sizes known
    assert all_reduce["busbw_gbps"] == pytest.approx(800 * 2 * 7 / 8 / 100)  # only the known group


def test_comm_init_giving_two_rank_counts_leaves_the_group_unknown(tmp_path: Path) -> None:
    e = Export()
    _init(e, ranks=4)
    _init(e, ranks=2, start=300)
    _collective(e, "ncclAllReduce", 1000, 100, _sized(COLLECTIVE, 800), "ncclDevKernel_AllReduce")
    assert _kernel_columns(e.write(tmp_path / "t.sqlite")) == [("ncclDevKernel_AllReduce", 800, -1, -1)]


def test_only_kernels_launched_inside_a_range_on_its_thread_get_its_size(tmp_path: Path) -> None:
    """The range [1000, 1100]: a launch inside it (first kernel: sized), a second launch inside it
    (not counted twice), a launch after it ends and one inside it but on another thread."""
    e = Export()
    e.nvtx_payload("ncclAllReduce", 1000, 1100, _sized(COLLECTIVE, 64))
    for call_start, thread in ((1010, None), (1050, None), (1200, None), (1020, 77)):
        tid = {} if thread is None else {"global_tid": GLOBAL_PID | thread}
        e.kernel(
            "ncclDevKernel_AllReduce",
            call_start + 500,
            call_start + 600,
            e.call("x", call_start, call_start + 5, **tid),
        )
    assert [row[1] for row in _kernel_columns(e.write(tmp_path / "t.sqlite"))] == [64, -1, -1, -1]


def test_an_export_without_payloads_reads_as_before(tmp_path: Path) -> None:
    plain, sized = Export(), Export()
    for e, blob in ((plain, None), (sized, _sized(COLLECTIVE, 4096))):
        if blob is None:
            e.nvtx("ncclAllReduce", 1000, 1100)
            call = e.call("cudaLaunchKernel", 1010, 1020)
            e.kernel("ncclDevKernel_AllReduce", 1200, 1300, call, stream=20)
        else:
            _collective(e, "ncclAllReduce", 1000, 100, blob, "ncclDevKernel_AllReduce")
    before = read_trace(plain.write(tmp_path / "plain.sqlite")).events
    after = read_trace(sized.write(tmp_path / "sized.sqlite")).events
    assert "group_size" not in before.column_names and "peer" not in before.column_names
    assert after.drop_columns(["bytes", "group_size", "peer"]).equals(before.drop_columns(["bytes"]))
    assert before.column("bytes").to_pylist() == [-1, -1, -1]


def test_payload_tables_without_sized_ranges_add_no_columns(tmp_path: Path) -> None:
    e = Export()
    _init(e)  # a comm-init payload only: nothing to size
    e.kernel("ncclDevKernel_AllReduce", 1200, 1300, e.call("cudaLaunchKernel", 1010, 1020))
    events = read_trace(e.write(tmp_path / "t.sqlite")).events
    assert "group_size" not in events.column_names
    assert (
        msgspec.to_builtins(analyze(read_trace(tmp_path / "t.sqlite")))["devices"][0]["communication"][
            "collectives"
        ][0]["bytes_unknown_count"]
        == 1
    )


def _header(schema: int, size: int, domain: int = 1) -> bytes:
    return struct.pack("<QQQQ", domain, schema, size, 32 + size)


MALFORMED = {
    "short header": (b"\x01" * 10, "shorter than the 32-byte payload header"),
    "unknown schema": (_header(999, 16) + bytes(16), "schema id not in NVTX_PAYLOAD_SCHEMA_ENTRIES"),
    "payload cut": (_header(COLLECTIVE, 16) + bytes(8), "shorter than the payload size its header gives"),
    "schema entries past the payload": (
        _header(COLLECTIVE, 8) + bytes(8),
        "shorter than its schema's entries",
    ),
    "unknown entry type": (
        _header(16777299, 16) + bytes(16),
        "entry 'Message size [bytes]' of unknown type 16777228 or at an unknown offset",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_payload_is_ignored_with_a_warning(tmp_path: Path, case: str) -> None:
    blob, reason = MALFORMED[case]
    e = Export()
    _init(e)
    _collective(e, "ncclAllReduce", 1000, 100, blob, "ncclDevKernel_AllReduce")
    _collective(e, "ncclAllReduce", 2000, 100, _sized(COLLECTIVE, 512), "ncclDevKernel_AllReduce")
    e.table(  # a schema whose message size has a type that is not a plain integer (an enum's id)
        "NVTX_PAYLOAD_SCHEMA_ENTRIES",
        SCHEMA_TABLES["NVTX_PAYLOAD_SCHEMA_ENTRIES"],
        [
            (1, 16777299, 0, None, 18, "NCCL communicator ID", None, None, None),
            (1, 16777299, 1, None, 16777228, MESSAGE, None, None, 8),
        ],
    )
    e.table(
        "NVTX_PAYLOAD_SCHEMAS",
        SCHEMA_TABLES["NVTX_PAYLOAD_SCHEMAS"],
        [(1, 16777299, None, 1, None, 2, 16, None)],
    )
    trace = read_trace(e.write(tmp_path / "t.sqlite"))
    assert [row[1] for row in _kernel_columns(tmp_path / "t.sqlite")] == [-1, 512]
    assert trace.metadata["warnings"] == [f"1 value(s) of NVTX_EVENTS.binaryData: {reason}; payload ignored"]


def test_entries_without_an_offset_follow_natural_alignment(tmp_path: Path) -> None:
    """A schema whose entries give no offsets: uint8 at 0, uint64 communicator at 8, size_t at 16."""
    e = Export()
    payload = struct.pack("<B7xQQ", 9, COMM, 3000)
    _collective(e, "ncclAllGather", 1000, 100, _header(16777300, 24) + payload, "ncclDevKernel_AllGather")
    e.table(
        "NVTX_PAYLOAD_SCHEMAS",
        SCHEMA_TABLES["NVTX_PAYLOAD_SCHEMAS"],
        [(1, 16777300, None, 1, None, 3, 24, None)],
    )
    e.table(
        "NVTX_PAYLOAD_SCHEMA_ENTRIES",
        SCHEMA_TABLES["NVTX_PAYLOAD_SCHEMA_ENTRIES"],
        [
            (1, 16777300, 0, None, 12, "flag", None, None, None),
            (1, 16777300, 1, None, 18, "NCCL communicator ID", None, None, None),
            (1, 16777300, 2, None, 22, MESSAGE, None, None, None),
        ],
    )
    assert _kernel_columns(e.write(tmp_path / "t.sqlite")) == [("ncclDevKernel_AllGather", 3000, -1, -1)]


def test_a_json_payload_is_read_by_entry_name(tmp_path: Path) -> None:
    e = Export()
    _init(e, ranks=2)
    text = f'{{"NCCL communicator ID": {COMM}, "{MESSAGE}": 4096}}'
    _collective(e, "ncclBroadcast", 1000, 64, None, "ncclDevKernel_Broadcast", json_text=text)
    _collective(e, "ncclBroadcast", 2000, 64, None, "ncclDevKernel_Broadcast", json_text="[1, 2]")
    path = e.write(tmp_path / "t.sqlite")
    assert [row[1:3] for row in _kernel_columns(path)] == [(4096, 2), (-1, -1)]
    assert read_trace(path).metadata["warnings"] == [
        "1 value(s) of NVTX_EVENTS.jsonText: not a JSON object; payload ignored"
    ]
