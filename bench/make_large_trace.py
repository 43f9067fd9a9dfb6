"""Make a large PyTorch-profiler trace for benchmarks by tiling a real trace in time.

Each copy ("tile") of the source trace is shifted in time by the source's span plus a gap, its
correlation ids, external ids and flow ids are offset so they stay unique, and its `ProfilerStep#N`
markers are renumbered so steps stay distinct. The output is written one tile at a time, one event
per line, as an uncompressed Kineto-shaped `{"schemaVersion": 1, ..., "traceEvents": [...]}` file.

    python bench/make_large_trace.py [--size-mb 480] [--out bench/data/large.pt.trace.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
DEFAULT_OUT = DATA_DIR / "large.pt.trace.json"
DEFAULT_SIZE_MB = 480.0  # MB = 10**6 bytes
GAP_US = 1000  # idle time between two tiles
SOURCES = (
    REPO.parent / "shared/traces/kineto/kineto-tbplugin-resnet50/worker0.1623143089861.pt.trace.json.gz",
    REPO / "tests/data/gpu/h2d28_separate_run1.pt.trace.json.gz",
)
ID_ARGS = ("correlation", "External id", "external id")
STEP = re.compile(r"^ProfilerStep#(\d+)$")

Event = dict[str, object]


@dataclass(frozen=True)
class Tiling:
    """How copy k of the source differs from the source: time, id and step strides."""

    shift_us: int
    id_stride: int
    step_stride: int
    float_times: bool


def default_source() -> Path:
    """The first source trace that exists (the large real one, else the in-repo one)."""
    for path in SOURCES:
        if path.is_file():
            return path
    raise FileNotFoundError(f"no source trace found; looked for {', '.join(map(str, SOURCES))}")


def load(path: Path) -> tuple[dict[str, object], bytes]:
    """The source document (gzip or plain JSON), and the whitespace it starts with.

    Kineto writes a newline before the opening brace; the tiled file keeps it, like a real one.
    """
    raw = path.read_bytes()
    text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    return json.loads(text), text[: len(text) - len(text.lstrip())]


def plan(events: list[Event]) -> Tiling:
    """Strides that keep times, ids and step numbers of successive tiles apart."""
    timed = [e for e in events if isinstance(e.get("ts"), int | float) and e.get("ph") != "M"]
    start = min(e["ts"] for e in timed)
    end = max(e["ts"] + _number(e.get("dur")) for e in timed)
    ids = [_int(v) for e in events for v in _ids(e)]
    steps = [int(m.group(1)) for e in events if (m := STEP.match(str(e.get("name", ""))))]
    return Tiling(
        shift_us=math.ceil(end - start) + GAP_US,
        id_stride=max((i for i in ids if i is not None), default=0) + 1,
        step_stride=(max(steps) - min(steps) + 1) if steps else 0,
        float_times=any(isinstance(e["ts"], float) for e in timed),
    )


def tile(events: list[Event], k: int, tiling: Tiling) -> Iterator[Event]:
    """Copy k of the events (metadata events only in copy 0)."""
    for event in events:
        if event.get("ph") == "M" and k > 0:
            continue
        yield shifted(event, k, tiling) if k else event


def shifted(event: Event, k: int, tiling: Tiling) -> Event:
    """One event moved to copy k: later in time, ids and step number offset."""
    out = dict(event)
    if isinstance(out.get("ts"), int | float):
        out["ts"] = _shift_time(out["ts"], k * tiling.shift_us, tiling.float_times)
    if "id" in out:
        out["id"] = _offset(out["id"], k * tiling.id_stride)
    if isinstance(out.get("args"), dict):
        out["args"] = _shifted_args(out["args"], k * tiling.id_stride)
    match = STEP.match(str(out.get("name", "")))
    if match:
        out["name"] = f"ProfilerStep#{int(match.group(1)) + k * tiling.step_stride}"
    return out


def write(doc: dict[str, object], tiles: int, out: Path, prefix: bytes = b"") -> tuple[int, int]:
    """Write the tiled document after `prefix` (leading whitespace); returns (events, bytes)."""
    events = doc["traceEvents"]
    tiling = plan(events)
    keys = list(doc)
    before, after = keys[: keys.index("traceEvents")], keys[keys.index("traceEvents") + 1 :]
    encode = msgspec.json.Encoder().encode
    count = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(out.suffix + ".partial")
    with partial.open("wb") as stream:
        stream.write(prefix + b"{\n" + b"".join(_member(encode, k, doc[k]) + b",\n" for k in before))
        stream.write(b'"traceEvents":[\n')
        for k in range(tiles):
            lines = [encode(e) for e in tile(events, k, tiling)]
            stream.write((b"" if k == 0 else b",\n") + b",\n".join(lines))
            count += len(lines)
        stream.write(b"\n]" + b"".join(b",\n" + _member(encode, k, doc[k]) for k in after) + b"\n}\n")
    partial.replace(out)
    return count, out.stat().st_size


def tiles_for(doc: dict[str, object], size_mb: float) -> int:
    """Whole tiles whose total size is nearest the target (at least one)."""
    encode = msgspec.json.Encoder().encode
    per_tile = sum(len(encode(e)) + 2 for e in doc["traceEvents"])
    return max(1, round(size_mb * 1e6 / per_tile))


def make(out: Path = DEFAULT_OUT, size_mb: float = DEFAULT_SIZE_MB, source: Path | None = None) -> Path:
    """Create the large trace; prints its event count and size."""
    source = source or default_source()
    doc, prefix = load(source)
    tiles = tiles_for(doc, size_mb)
    print(f"tiling {source.name} ({len(doc['traceEvents']):,} events) x {tiles} -> {out}", flush=True)
    count, size = write(doc, tiles, out, prefix)
    print(f"wrote {count:,} events, {size / 1e6:.1f} MB ({size:,} bytes) to {out}")
    return out


def _ids(event: Event) -> Iterator[object]:
    if "id" in event:
        yield event["id"]
    args = event.get("args")
    if isinstance(args, dict):
        yield from (args[key] for key in ID_ARGS if key in args)


def _shifted_args(args: dict[str, object], offset: int) -> dict[str, object]:
    out = dict(args)
    for key in ID_ARGS:
        if key in out:
            out[key] = _offset(out[key], offset)
    return out


def _shift_time(ts: float, shift_us: int, float_times: bool) -> float:
    """Integer µs stay integers; float µs keep their three decimals (no float noise)."""
    return round(ts + shift_us, 3) if float_times else ts + shift_us


def _offset(value: object, offset: int) -> object:
    """Offset an id; ids that are not integers (or are -1/0 placeholders) are left alone."""
    number = _int(value)
    if number is None or number <= 0:
        return value
    return number + offset if isinstance(value, int) else str(number + offset)


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _number(value: object) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _member(encode: Callable[[object], bytes], key: str, value: object) -> bytes:
    return encode(key) + b":" + encode(value)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=DEFAULT_SIZE_MB, help="target size, MB (1e6 B)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .json path")
    parser.add_argument("--source", type=Path, default=None, help="source trace (.json or .json.gz)")
    args = parser.parse_args(argv)
    make(args.out, args.size_mb, args.source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
