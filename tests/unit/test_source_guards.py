"""The guards every reader shares (tracekit/readers/source.py, errors.py, report/files.py), on inputs built
here: gzip bombs and truncations, file kinds, byte order marks, message length, unwritable outputs."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from kineto_builder import kernel, step, write_trace

from tracekit.errors import MAX_MESSAGE_CHARS, TraceError
from tracekit.readers import read_trace
from tracekit.readers.source import MAX_INPUT_ENV, read_buffer, read_head
from tracekit.report.files import write_text_atomic

EVENTS = [step(1, 0, 100), kernel("k", 10, 20)]


def _bomb(path: Path, expanded_bytes: int) -> Path:
    """A small gzip file expanding to about `expanded_bytes` spaces after a valid JSON start: one
    member of 256 MiB (about 250 kB compressed) repeated."""
    member = gzip.compress(b" " * (256 << 20), compresslevel=9)
    with path.open("wb") as out:
        out.write(gzip.compress(b'{"traceEvents": ['))
        for _ in range(expanded_bytes // (256 << 20)):
            out.write(member)
    return path


def test_gzip_bomb_is_refused_in_seconds_without_filling_memory(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "bomb.json.gz", 10 << 30)  # 10 GiB of spaces in about 10 MB
    assert path.stat().st_size < 20 << 20
    began = time.monotonic()
    with pytest.raises(TraceError, match=r"bomb\.json\.gz: gzip data expands over 200:1"):
        read_trace(path)
    assert time.monotonic() - began < 10


def test_decompressed_size_limit_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_trace(tmp_path / "t.json.gz", EVENTS * 200, gz=True)
    monkeypatch.setenv(MAX_INPUT_ENV, "1KiB")
    with pytest.raises(TraceError, match=r"decompresses to more than 0 MiB; raise TRACEKIT_MAX_INPUT_SIZE"):
        read_buffer(path)
    monkeypatch.setenv(MAX_INPUT_ENV, "64MiB")
    assert read_trace(path).events.num_rows == 400
    monkeypatch.setenv(MAX_INPUT_ENV, "lots")
    with pytest.raises(TraceError, match="TRACEKIT_MAX_INPUT_SIZE='lots' is not a size"):
        read_buffer(path)


def test_truncated_gzip_is_named(tmp_path: Path) -> None:
    whole = gzip.compress(json.dumps({"traceEvents": EVENTS * 500}).encode())
    path = tmp_path / "cut.json.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(TraceError, match=r"cut\.json\.gz: truncated"):
        read_buffer(path)
    assert read_head(path).startswith(b'{"traceEvents"')  # detection still sees the start


def test_several_gzip_members_are_read_whole(tmp_path: Path) -> None:
    text = json.dumps({"schemaVersion": 1, "traceEvents": EVENTS}).encode()
    path = tmp_path / "members.json.gz"
    path.write_bytes(gzip.compress(text[:20]) + gzip.compress(text[20:]))
    assert bytes(read_buffer(path)) == text
    assert read_trace(path).events.num_rows == 2


def test_byte_order_mark_is_skipped_in_plain_and_gzip_files(tmp_path: Path) -> None:
    text = b"\xef\xbb\xbf" + json.dumps({"schemaVersion": 1, "traceEvents": EVENTS}).encode()
    plain, packed = tmp_path / "bom.json", tmp_path / "bom.json.gz"
    plain.write_bytes(text)
    packed.write_bytes(gzip.compress(text))
    assert bytes(read_buffer(plain)) == bytes(read_buffer(packed)) == text[3:]
    assert read_head(plain) == read_head(packed) == text[3:]


def test_fifo_is_not_an_empty_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(TraceError, match=r"pipe\.json: is not a regular file"):
        read_trace(fifo)


def test_symlink_loop_is_named(tmp_path: Path) -> None:
    loop = tmp_path / "loop.json"
    loop.symlink_to(tmp_path / "loop.json")
    with pytest.raises(TraceError, match=r"loop\.json: symbolic link loop"):
        read_trace(loop)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode-000 files; run as a user to check")
def test_unreadable_file_is_permission_denied(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "t.json", EVENTS)
    path.chmod(0)
    with pytest.raises(TraceError, match="permission denied"):
        read_trace(path)


@pytest.mark.parametrize("blocked", ["file", "folder"])
def test_unreadable_input_as_an_unprivileged_user(blocked: str) -> None:
    if os.geteuid() != 0 or not Path("/usr/bin/setpriv").exists():
        pytest.skip("needs root and setpriv to run the check as the user nobody")
    top = Path(tempfile.mkdtemp(prefix="tracekit-perm-", dir="/tmp"))
    try:
        (top / "inner").mkdir()
        path = write_trace(top / "inner" / "t.json", EVENTS)
        top.chmod(0o755 if blocked == "file" else 0o700)
        (top / "inner").chmod(0o755)
        path.chmod(0 if blocked == "file" else 0o644)
        command = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        command += [sys.executable, "-m", "tracekit", "analyze", str(path), "--no-json", "--no-html"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd="/")
    finally:
        shutil.rmtree(top)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0], lines
    assert "not readable" in lines[0] or "permission denied" in lines[0]


def test_messages_are_one_short_line_even_for_hostile_problems() -> None:
    message = str(TraceError("trace.json", "bad value " + "x" * 70_000 + "\nsecond line"))
    assert "\n" not in message
    assert len(message) <= MAX_MESSAGE_CHARS
    assert message.startswith("trace.json: bad value xxx") and message.endswith("…")


def test_a_long_path_is_kept_whole(tmp_path: Path) -> None:
    path = tmp_path / ("d" * 150) / "t.json"
    message = str(TraceError(path, "empty file"))
    assert message == f"{path}: empty file"


@pytest.mark.parametrize("target", ["folder", "under_a_file"])
def test_unwritable_outputs_are_named_before_any_work(tmp_path: Path, target: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    out = tmp_path / "folder" if target == "folder" else tmp_path / "file" / "out.json"
    with pytest.raises(TraceError, match=r"is a directory|is not a directory"):
        write_text_atomic(out, "{}")
    trace = write_trace(tmp_path / "t.json", EVENTS)
    for option in ("--json", "--html"):
        command = [sys.executable, "-m", "tracekit", "analyze", str(trace), option, str(out)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.strip().startswith(f"tracekit: error: {out}: ")
        assert not (tmp_path / "reports").exists()  # nothing written before the refusal
