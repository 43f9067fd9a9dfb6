"""The per-rank terminal summary and HTML report show the device's communication block (split of W,
overlap, exposed communication, collectives by type) with their definitions, only where it has
collectives (docs/report.md)."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from kineto_builder import kernel, memcpy, nccl_kernel, step, write_trace
from rich.console import Console

from tracekit.analysis.analyze import analyze
from tracekit.analysis.definitions import DEFINITIONS
from tracekit.analysis.document import Document, plain
from tracekit.readers import read_trace
from tracekit.report.formulas import DEFINITIONS_ZH
from tracekit.report.html import render_html
from tracekit.report.terminal import render_summary


def _two_streams(tmp: Path) -> Document:
    """Compute on stream 7: [10, 30] + [50, 60] µs; NCCL on stream 20: all-reduce [20, 40] of 1000
    fp32 over 4 ranks, all-gather [70, 80] of 400 fp32 over 2, a send [85, 90] of unknown size;
    a copy [35, 45]. W = [10, 90]: compute 30, communication 25 ([30, 40] + [70, 80] + [85, 90]),
    copies 5 ([40, 45]), idle 20; overlap 10 of 35, exposed 25."""
    events = [
        step(1, 0, 100),
        kernel("gemm", 10, 20),
        nccl_kernel("allreduce", 20, 20, 1000, group_size=4),
        memcpy("Memcpy HtoD (Pinned -> Device)", 35, 10, 4096),
        kernel("gemm", 50, 10),
        nccl_kernel("_allgather_base", 70, 10, 100, 400, group_size=2),
        nccl_kernel("send", 85, 5, 7, dtype="no-such-dtype"),
    ]
    return analyze(read_trace(write_trace(tmp / "t.json", events)))


def _compute_only(tmp: Path) -> Document:
    return analyze(read_trace(write_trace(tmp / "c.json", [step(1, 0, 100), kernel("gemm", 10, 20)])))


def _terminal(document: Document, width: int) -> list[str]:
    out = io.StringIO()
    render_summary(document, Console(file=out, width=width, color_system=None, legacy_windows=False))
    return out.getvalue().splitlines()


def _words(lines: list[str], first: str) -> list[str]:
    """The words of the table row that starts with `first` (not a wrapped formula's next line)."""
    return next(line.split() for line in lines if line.startswith(f"{first} "))


@pytest.mark.parametrize("width", [80, 120])
def test_terminal_shows_the_split_overlap_and_collectives_at_the_width(tmp_path: Path, width: int) -> None:
    document = _two_streams(tmp_path)
    assert plain(document.devices[0].communication.split) == {
        "window_ns": 80_000, "compute_ns": 30_000, "communication_ns": 25_000, "copies_ns": 5_000,
        "idle_ns": 20_000,
    }  # fmt: skip
    lines = _terminal(document, width)
    assert max(map(len, lines)) <= width
    assert _words(lines, "compute")[:4] == ["compute", "30", "us", "37.5"]
    assert _words(lines, "communication")[:4] == ["communication", "25", "us", "31.2"]
    assert _words(lines, "copies")[:4] == ["copies", "5", "us", "6.2"]
    assert _words(lines, "idle")[:4] == ["idle", "20", "us", "25.0"]
    assert _words(lines, "overlap")[:5] == ["overlap", "10", "us", "-", "28.6"]  # 10 of 35 µs
    assert _words(lines, "exposed")[:4] == ["exposed", "25", "us", "31.2"]
    # all-reduce: 4000 B in 20 µs = 0.2 GB/s, x 2(4-1)/4 = 0.3; all-gather 1600 B / 10 µs, x (2-1)/2
    assert _words(lines, "all-reduce") == ["all-reduce", "1", "20", "us", "3.9", "KiB", "0.20", "0.30"]
    assert _words(lines, "all-gather") == ["all-gather", "1", "10", "us", "1.6", "KiB", "0.16", "0.08"]
    assert _words(lines, "send-recv") == ["send-recv", "1", "5", "us", "unknown", "unknown", "unknown"]


def test_terminal_leaves_the_part_out_without_collectives(tmp_path: Path) -> None:
    lines = _terminal(_compute_only(tmp_path), 80)
    assert not any(line.startswith(("Communication", "Collectives")) for line in lines)


def _section(page: str, anchor: str) -> str:
    start = page.index(f'<section id="{anchor}">')
    return page[start : page.index("</section>", start)]


def _rows(fragment: str) -> list[list[str]]:
    """Each table row's cells as text."""
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", fragment, re.S)
    ]


def _row(rows: list[list[str]], label: str) -> list[str]:
    return next(row for row in rows if row[0] == label)


def test_html_section_gives_the_numbers_and_their_definitions(tmp_path: Path) -> None:
    section = _section(render_html(_two_streams(tmp_path), "en"), "sec-communication")
    rows = _rows(section)
    assert _row(rows, "compute") == ["compute", "30 us", "37.5 %", "|union of compute kernels|"]
    assert _row(rows, "communication (not under compute)")[:3] == [
        "communication (not under compute)", "25 us", "31.2 %",
    ]  # fmt: skip
    assert _row(rows, "idle")[:3] == ["idle", "20 us", "25.0 %"]
    assert _row(rows, "overlap ratio (under compute)")[:3] == [
        "overlap ratio (under compute)",
        "10 us",
        "28.6 %",
    ]
    assert _row(rows, "exposed communication")[:3] == ["exposed communication", "25 us", "31.2 %"]
    assert _row(rows, "all-reduce") == ["all-reduce", "1", "20 us", "20 us", "3.9 KiB", "0.20", "0.30"]
    assert _row(rows, "send-recv")[4:] == ["unknown", "unknown", "unknown"]
    text = html.unescape(section)
    for key in ("communication.split", "communication.overlap_ratio", "communication.exposed_ns",
                "communication.collectives"):  # fmt: skip
        assert DEFINITIONS[key] in text  # beside the number and in its hover hint


def test_html_section_in_chinese_uses_the_zh_definitions(tmp_path: Path) -> None:
    section = _section(render_html(_two_streams(tmp_path), "zh"), "sec-communication")
    assert "<h2>通信</h2>" in section
    assert DEFINITIONS_ZH["communication.overlap_ratio"] in html.unescape(section)
    assert _row(_rows(section), "计算")[:3] == ["计算", "30 us", "37.5 %"]


def test_html_has_no_communication_section_without_collectives(tmp_path: Path) -> None:
    assert 'id="sec-communication"' not in render_html(_compute_only(tmp_path), "en")
