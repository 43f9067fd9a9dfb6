"""Raw bytes of an input file, with the guards every reader shares.

gzip is recognised by its magic number, never by the extension, and decompressed in a stream under
a size limit (`TRACEKIT_MAX_INPUT_SIZE`, default 8 GiB) and an expansion-ratio limit, so a gzip
bomb fails in a second instead of filling memory. A UTF-8 byte order mark is skipped. Paths that
are not regular files (FIFOs, devices), symbolic-link loops and unreadable files are named as such.
"""

from __future__ import annotations

import errno
import io
import mmap
import os
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path

import msgspec

from tracekit.errors import TraceError
from tracekit.readers import checked

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
HEAD_BYTES = 1 << 16
MAX_INPUT_ENV = "TRACEKIT_MAX_INPUT_SIZE"
DEFAULT_MAX_INPUT_BYTES = 8 << 30
MAX_GZIP_RATIO = 200
"""Traces compress 5x to 40x; a stream expanding more than this (past RATIO_CHECK_BYTES) is a bomb."""
RATIO_CHECK_BYTES = 64 << 20
MAX_REPAIR_TRIES = 16
"""How many cut points an unterminated array is closed at before it is called malformed."""
_CHUNK = 1 << 20
_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20}
_SIZE_UNITS |= {"mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tib": 1 << 40}


def read_head(path: Path) -> bytes:
    """The first bytes of the (decompressed) content, for format detection; no byte order mark."""
    require_file(path)
    with _open(path) as raw:
        if raw.read(2) != GZIP_MAGIC:
            raw.seek(0)
            return _without_bom(raw.read(HEAD_BYTES))
        raw.seek(0)
        return _without_bom(bytes(_gunzip(path, raw, HEAD_BYTES, stop_at_limit=True)))


def read_buffer(path: Path) -> bytes | bytearray | memoryview:
    """The whole (decompressed) content without a byte order mark; a plain file is memory-mapped."""
    require_file(path)
    with _open(path) as raw:
        if raw.read(2) == GZIP_MAGIC:
            raw.seek(0)
            return _skip_bom(_gunzip(path, raw, max_input_bytes(path)))
        return _skip_bom(memoryview(mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ)))


def gunzipped(path: Path, data: bytes) -> bytearray:
    """gzip `data` (the bytes of `path`) decompressed under the limits of every input: the size limit
    (`max_input_bytes`) and the bomb ratio; truncated or corrupt data is an input error."""
    return _gunzip(path, io.BytesIO(data), max_input_bytes(path))


def content_blocks(path: Path, block_bytes: int = _CHUNK) -> Iterator[bytes]:
    """The (decompressed) content in blocks of about `block_bytes`, without a byte order mark, under
    the same guards as `read_buffer` (size and ratio limits, truncation): a stream, never whole."""
    require_file(path)
    with _open(path) as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        limit = max_input_bytes(path)
        blocks = _gunzip_blocks(path, raw, limit, block_bytes) if gzipped else _plain(raw, block_bytes)
        head: bytes | None = b""
        for block in blocks:
            if head is not None:  # the mark is looked for in the first 3 bytes, however they come
                head += block
                if len(head) < len(UTF8_BOM):
                    continue
                block, head = _without_bom(head), None
            yield block
        if head:
            yield _without_bom(head)


def content_size_hint(path: Path) -> int:
    """About how many bytes the content has: the file size, or for gzip the size its trailer gives
    (modulo 4 GiB: never less than the compressed size)."""
    with _open(path) as raw:
        size = os.fstat(raw.fileno()).st_size
        if raw.read(2) != GZIP_MAGIC or size < 20:
            return size
        raw.seek(size - 4)
        return max(int.from_bytes(raw.read(4), "little"), size)


def _plain(raw, block_bytes: int) -> Iterator[bytes]:
    while block := raw.read(block_bytes):
        yield block


def _gunzip_blocks(path: Path, raw, limit: int, block_bytes: int) -> Iterator[bytes]:
    """Decompressed blocks of every gzip member of `raw`, refusing more than `limit` bytes in all or a
    bomb's ratio."""
    produced, consumed = 0, 0
    inflater, pending = zlib.decompressobj(wbits=31), False
    try:
        while chunk := raw.read(_CHUNK):
            consumed += len(chunk)
            while chunk:
                out = inflater.decompress(chunk, block_bytes)
                chunk, pending = inflater.unconsumed_tail, True
                if inflater.eof:  # the next gzip member, if any, starts in unused_data
                    chunk, inflater, pending = inflater.unused_data, zlib.decompressobj(wbits=31), False
                produced += len(out)
                if produced > limit:
                    raise TraceError(path, _too_large(limit))
                _check_ratio(path, produced, consumed)
                yield out
    except zlib.error as exc:
        raise TraceError(path, f"truncated or corrupt gzip data ({exc})") from None
    if pending:
        raise TraceError(path, "truncated gzip data (the stream ends before its last block)")


def decode_json(path: Path, data: bytes | bytearray | memoryview, type: object = object, what: str = "JSON"):
    """Decode JSON (typed with msgspec); malformed, mistyped or too deeply nested input is a TraceError."""
    try:
        return msgspec.json.decode(data, type=type)
    except msgspec.ValidationError as exc:
        raise TraceError(path, f"unexpected {what} content ({first_line(exc)})") from None
    except msgspec.DecodeError as exc:
        raise TraceError(path, f"not valid {what} ({first_line(exc)})") from None
    except RecursionError:
        raise TraceError(path, f"{what} nested too deeply") from None


UNTERMINATED = (
    "the JSON array of events is not terminated (the tracer stopped mid-write?); read up to the last "
    "complete event"
)
"""The warning for an array of events a tracer left unterminated, after the file's name."""


def decode_json_array(path: Path, data, element_type: type, what: str = "JSON") -> list:
    """A JSON array of `element_type`. One that a tracer left unterminated (the Trace Event Format
    allows it) is read up to its last complete element, with a warning."""
    try:
        return msgspec.json.decode(data, type=list[element_type])
    except msgspec.DecodeError:
        repaired = _terminated(data)
        if repaired is None:
            return decode_json(path, data, list[element_type], what)  # raises, saying what is wrong
        checked.warn(f"{path.name}: {UNTERMINATED}")
        return decode_json(path, repaired, list[element_type], what)
    except (msgspec.ValidationError, RecursionError):
        return decode_json(path, data, list[element_type], what)


def _terminated(data) -> bytes | None:
    """The array closed after its last complete element; None when it is closed or cannot be."""
    view = data if isinstance(data, memoryview) else memoryview(data)
    end = len(view)
    while end and bytes(view[end - 1 : end]) in (b" ", b"\n", b"\r", b"\t"):
        end -= 1
    if not end or bytes(view[end - 1 : end]) == b"]":
        return None
    text = bytes(view[:end])
    for _ in range(MAX_REPAIR_TRIES):
        candidate = text.rstrip().rstrip(b",").rstrip()
        if candidate.endswith((b"}", b"[")) and _decodes(candidate + b"]"):
            return candidate + b"]"
        cut = text.rfind(b"}", 0, max(len(candidate) - 1, 0))
        if cut < 0:
            return None
        text = text[: cut + 1]
    return None


def _decodes(data: bytes) -> bool:
    try:
        msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return False
    return True


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def max_input_bytes(path: Path) -> int:
    """The decompressed-size limit: TRACEKIT_MAX_INPUT_SIZE (e.g. `16GiB`), else 8 GiB."""
    setting = os.environ.get(MAX_INPUT_ENV, "").strip().lower().replace(" ", "")
    if not setting:
        return DEFAULT_MAX_INPUT_BYTES
    size = parse_size(setting)
    if size is None:
        raise TraceError(path, f"{MAX_INPUT_ENV}={setting[:40]!r} is not a size such as 8GiB")
    return size


def parse_size(text: str) -> int | None:
    """Bytes from a size such as `8GiB`, `2GB`, `512m` or `1000` (units are powers of 1024); None
    when it is not one."""
    setting = text.strip().lower().replace(" ", "")
    digits = setting.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = setting[len(digits) :]
    if not digits.isdigit() or unit not in _SIZE_UNITS:
        return None
    return int(digits) * _SIZE_UNITS[unit]


def _gunzip(path: Path, raw, limit: int, stop_at_limit: bool = False) -> bytearray:
    """Decompress every gzip member of `raw`, refusing more than `limit` bytes or a bomb's ratio
    (with `stop_at_limit`, the first `limit` bytes instead)."""
    out, consumed = bytearray(), 0
    inflater, pending = zlib.decompressobj(wbits=31), False
    try:
        while chunk := raw.read(_CHUNK):
            consumed += len(chunk)
            while chunk:
                out += inflater.decompress(chunk, limit + 1 - len(out))
                chunk, pending = inflater.unconsumed_tail, True
                if inflater.eof:  # the next gzip member, if any, starts in unused_data
                    chunk, inflater, pending = inflater.unused_data, zlib.decompressobj(wbits=31), False
                if len(out) > limit:
                    if stop_at_limit:
                        return out[:limit]
                    raise TraceError(path, _too_large(limit))
                _check_ratio(path, len(out), consumed)
    except zlib.error as exc:
        raise TraceError(path, f"truncated or corrupt gzip data ({exc})") from None
    if pending and not stop_at_limit:
        raise TraceError(path, "truncated gzip data (the stream ends before its last block)")
    return out


def _check_ratio(path: Path, produced: int, consumed: int) -> None:
    if produced > RATIO_CHECK_BYTES and produced > MAX_GZIP_RATIO * consumed:
        raise TraceError(path, f"gzip data expands over {MAX_GZIP_RATIO}:1 (a decompression bomb?); refused")


def _too_large(limit: int) -> str:
    return f"decompresses to more than {limit >> 20} MiB; raise {MAX_INPUT_ENV} (e.g. 32GiB) to read it"


def _without_bom(head: bytes) -> bytes:
    return head[len(UTF8_BOM) :] if head.startswith(UTF8_BOM) else head


def _skip_bom(data: bytearray | memoryview) -> bytearray | memoryview:
    if bytes(data[: len(UTF8_BOM)]) != UTF8_BOM:
        return data
    if isinstance(data, bytearray):
        del data[: len(UTF8_BOM)]
        return data
    return data[len(UTF8_BOM) :]


def _open(path: Path):
    try:
        return path.open("rb")
    except OSError as exc:
        raise TraceError(path, _os_problem(exc)) from None


def is_directory(path: Path) -> bool:
    """True for a directory (read as Ascend profiler output); a missing path is an input error."""
    return stat.S_ISDIR(_stat(path).st_mode)


def require_file(path: Path) -> None:
    """Raise a TraceError unless the path is a non-empty regular file."""
    mode = _stat(path)
    if stat.S_ISDIR(mode.st_mode):
        raise TraceError(path, "is a directory; give a trace file (directories are read as Ascend output)")
    if not stat.S_ISREG(mode.st_mode):
        raise TraceError(path, "is not a regular file (a FIFO, socket or device); give a trace file")
    if mode.st_size == 0:
        raise TraceError(path, "empty file")


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise TraceError(path, _os_problem(exc)) from None


def _os_problem(exc: OSError) -> str:
    """What an OS error means for an input, in a few words."""
    return {
        errno.ENOENT: "no such file",
        errno.ELOOP: "symbolic link loop",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOTDIR: "no such file (a parent is not a directory)",
        errno.ENAMETOOLONG: "file name too long",
    }.get(exc.errno, f"cannot be read ({os.strerror(exc.errno or 0) or type(exc).__name__})")
