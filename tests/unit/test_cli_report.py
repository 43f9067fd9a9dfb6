"""`tracekit report`'s input: an analysis JSON, plain or gzip-compressed, read into a Document; a
field of the wrong type is one line naming the file and the field's path."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from tracekit.analysis.document import Document, decode
from tracekit.cli.report import default_report_path, load_analysis
from tracekit.errors import TraceError

OLD = ROOT / "tests" / "data" / "compat" / "h2d28_separate.analysis.json"


def _written(tmp_path: Path, document: dict, name: str = "edited.analysis.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_a_gzipped_analysis_reads_as_the_plain_one(tmp_path: Path) -> None:
    packed = tmp_path / "old.analysis.json.gz"
    packed.write_bytes(gzip.compress(OLD.read_bytes()))
    document = load_analysis(packed)
    assert isinstance(document, Document)
    assert document == load_analysis(OLD) == decode(OLD.read_bytes())
    assert document.steps.count == json.loads(OLD.read_text())["steps"]["count"]


def test_report_renders_a_gzipped_analysis_beside_it_without_the_gz(tmp_path: Path) -> None:
    packed = tmp_path / "old.analysis.json.gz"
    packed.write_bytes(gzip.compress(OLD.read_bytes()))
    command = [sys.executable, "-m", "tracekit", "report", str(packed)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"HTML report written to {tmp_path / 'old.html'}"
    assert "<html" in (tmp_path / "old.html").read_text()
    assert default_report_path(Path("r/x.analysis.json.gz")) == Path("r/x.html")
    assert default_report_path(Path("r/x.json.gz")) == Path("r/x.html")


def test_a_truncated_gzip_is_one_line(tmp_path: Path) -> None:
    packed = tmp_path / "cut.analysis.json.gz"
    packed.write_bytes(gzip.compress(OLD.read_bytes())[:500])
    with pytest.raises(TraceError, match="truncated gzip"):
        load_analysis(packed)


def test_a_gzip_analysis_is_decompressed_under_the_input_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed = tmp_path / "big.analysis.json.gz"
    packed.write_bytes(gzip.compress(b" " * (2 << 20) + OLD.read_bytes()))
    monkeypatch.setenv("TRACEKIT_MAX_INPUT_SIZE", "1MiB")
    with pytest.raises(TraceError, match="decompresses to more than 1 MiB"):
        load_analysis(packed)
    monkeypatch.delenv("TRACEKIT_MAX_INPUT_SIZE")
    assert load_analysis(packed).schema == load_analysis(OLD).schema


def test_a_field_of_the_wrong_type_names_its_path(tmp_path: Path) -> None:
    document = json.loads(OLD.read_text())
    document["devices"][0]["h2d"]["count"] = "many"
    with pytest.raises(TraceError) as raised:
        load_analysis(_written(tmp_path, document))
    assert str(raised.value) == (
        f"{tmp_path / 'edited.analysis.json'}: not a valid tracekit analysis: "
        "devices[0].h2d.count: expected `int`, got `str`"
    )


def test_a_missing_field_names_its_block(tmp_path: Path) -> None:
    document = json.loads(OLD.read_text())
    del document["steps"]["duration_ns"]["p90"]
    with pytest.raises(TraceError, match=r"steps\.duration_ns: object missing required field `p90`"):
        load_analysis(_written(tmp_path, document))


def test_a_lone_surrogate_escape_is_one_line(tmp_path: Path) -> None:
    """json.loads reads "\\ud800" (half a UTF-16 pair, no text): refused, not an internal error."""
    document = json.loads(OLD.read_text())
    document["trace"]["\ud800"] = 1  # as a key: matching it to the fields needs UTF-8
    with pytest.raises(TraceError, match="a string holds a lone surrogate escape"):
        load_analysis(_written(tmp_path, document))


def test_nan_reads_as_unknown_where_a_field_may_be_unknown(tmp_path: Path) -> None:
    text = OLD.read_text()
    document = json.loads(text)
    assert document["devices"][0]["utilization"] is not None
    document["devices"][0]["utilization"] = "NAN_HERE"
    path = tmp_path / "nan.analysis.json"
    path.write_text(json.dumps(document).replace('"NAN_HERE"', "NaN"))
    assert load_analysis(path).devices[0].utilization is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty file"),
        (b"[1, 2]", "not a tracekit analysis: the JSON is a list, not an object"),
        (b'{"schema": "tracekit.check/1"}', "not a tracekit analysis: schema 'tracekit.check/1'"),
        (b'{"schema": "tracekit.analysis/1", "trace": {}}', "incomplete tracekit analysis: no 'steps' block"),
        (b'{"schema": "tracekit.analysis/1", "tr', "truncated JSON"),
    ],
)
def test_the_checks_before_the_fields_keep_their_words(tmp_path: Path, content: bytes, problem: str) -> None:
    for name, data in (("a.analysis.json", content), ("a.analysis.json.gz", gzip.compress(content))):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(TraceError, match=re.escape(problem)):
            load_analysis(path)
