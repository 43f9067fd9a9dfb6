"""Checked conversion of values read from files: the one way a reader turns file values into columns.

Every reader converts through these functions, so every format applies the same rules
(docs/formats.md, "Value checks"):

- integers must fit their column (int64; device ids int32, >= 0): others become NONE;
- numbers written as text are parsed only when short (`MAX_NUMBER_CHARS`), finite and integral;
- times must be finite and within ±2^62 ns (146 years); an event whose start is unknown or out of
  range, whose duration is negative, or whose end lies past 2^62 ns is dropped;
- names longer than `MAX_NAME_CHARS` are cut.

Nothing is silent: each replaced or dropped value is counted by field and reason in the `Problems`
of the read in progress (`collecting`), and the counts become the trace's warnings.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from tracekit import resident
from tracekit.model.arrays import arrow, strings
from tracekit.model.schema import NONE, build_table, column_default, name_array, numpy_type
from tracekit.readers import timeunits

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MAX = 2**31 - 1
MAX_NUMBER_CHARS = 40
"""Longest number written as text that is parsed; longer ones (a million digits) are refused unread."""
MAX_NAME_CHARS = 16384
"""Longest event name kept; templated kernel names reach a few thousand characters."""
MAX_TIME_NS = 1 << 62
"""Latest event end accepted (about 146 years after the clock's epoch): the analyses add gaps and
durations to times, and int64 must hold the sums."""
MAX_US = MAX_TIME_NS // 1000
"""Largest time in µs accepted."""
INVALID_NS = INT64_MIN
"""Marks a time that could not be converted; rows with it are dropped by `event_table`."""
_NULL_TEXTS = frozenset({"", "n/a", "na", "none", "null", "nan"})


class Problems:
    """Counts of the values a read replaced or dropped, by field and reason."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.messages: dict[str, None] = {}

    def note(self, field: str, reason: str, count: int = 1) -> None:
        """Record `count` values of `field` replaced or dropped for `reason`."""
        if count:
            self.counts[(field, reason)] += count

    def warn(self, message: str) -> None:
        """Record a warning about the file as a whole (once, however often it is said)."""
        self.messages[message] = None

    def warnings(self) -> list[str]:
        """The file's warnings, then one per field and reason: `3 value(s) of dur_ns: negative ...`."""
        counted = [f"{count} value(s) of {field}: {reason}" for (field, reason), count in self.counts.items()]
        return list(self.messages) + counted


_current: ContextVar[Problems | None] = ContextVar("tracekit_read_problems", default=None)


@contextmanager
def collecting() -> Iterator[Problems]:
    """Collect the problems of the values read inside the block (nested blocks collect their own)."""
    problems = Problems()
    token = _current.set(problems)
    try:
        yield problems
    finally:
        _current.reset(token)


def note(field: str, reason: str, count: int = 1) -> None:
    """Record replaced or dropped values in the read in progress (ignored outside `collecting`)."""
    problems = _current.get()
    if problems is not None:
        problems.note(field, reason, count)


def warn(message: str) -> None:
    """Record a warning about the file being read (ignored outside `collecting`)."""
    problems = _current.get()
    if problems is not None:
        problems.warn(message)


def replay(problems: Problems) -> None:
    """Record, in the read in progress, what another `collecting` block (a worker's, a thread's)
    recorded: its warnings, then its counts, in their order."""
    for message in problems.messages:
        warn(message)
    for (field, reason), count in problems.counts.items():
        note(field, reason, count)


# --- scalars ---------------------------------------------------------------------------------------


def integer(
    value: object, field: str, low: int = INT64_MIN, high: int = INT64_MAX, labels: bool = False
) -> int:
    """A file value as an integer in [low, high]; NONE when absent (null, "", N/A) or unusable (noted).
    With `labels`, text that is not a number is a label (Kineto's tid "stream 7"): NONE, not noted."""
    parsed, reason = _checked_integer(value, low, high, labels)
    if reason:
        note(field, reason)
    return parsed


def _checked_integer(value: object, low: int, high: int, labels: bool = False) -> tuple[int, str | None]:
    """The integer and, when the value was unusable, why."""
    parsed = _parse_integer(value)
    if parsed is None:
        quiet = _is_absent(value) or (labels and isinstance(value, str))
        return NONE, None if quiet else "not an integer, read as unknown"
    if not low <= parsed <= high:
        return NONE, f"outside [{low}, {high}], read as unknown"
    return parsed, None


def number(value: object) -> Decimal | None:
    """A finite number from an int, float, Decimal or short numeric text; None otherwise."""
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if _bounded(value) else None
    if isinstance(value, (str, bytes)):
        return _parse_text_number(value if isinstance(value, str) else value.decode("ascii", "replace"))
    return None


def text(value: object, field: str, fallback: str = "") -> str:
    """A name or label: str as it is (cut at MAX_NAME_CHARS, noted); bytes decoded; None -> fallback."""
    if value is None:
        return fallback
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = str(value)
    if len(value) > MAX_NAME_CHARS:
        note(field, f"longer than {MAX_NAME_CHARS} characters, cut")
        return value[:MAX_NAME_CHARS]
    return value


def us_to_ns(value: object, field: str) -> int:
    """Exact integer ns from µs (number or decimal text); INVALID_NS when absent or out of range."""
    us = number(value)
    if us is None or abs(us) > MAX_US:
        note(field, "missing, not a finite number or out of range; event dropped")
        return INVALID_NS
    return int((us * 1000).to_integral_value())


def ns(value: object, field: str) -> int:
    """An integer ns time; INVALID_NS when absent or out of int64 range (noted)."""
    us = number(value)
    if us is None or us != us.to_integral_value() or not -MAX_TIME_NS <= us <= MAX_TIME_NS:
        note(field, "missing, not an integer or out of range; event dropped")
        return INVALID_NS
    return int(us)


def _parse_integer(value: object) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    parsed = number(value)
    if parsed is None or parsed != parsed.to_integral_value():
        return None
    return int(parsed)


def _parse_text_number(raw: str) -> Decimal | None:
    cleaned = raw.strip().strip('"').strip()
    if len(cleaned) > MAX_NUMBER_CHARS or cleaned.lower() in _NULL_TEXTS:
        return None
    try:
        parsed = Decimal(cleaned)
    except (InvalidOperation, ValueError):
        return None
    return parsed if _bounded(parsed) else None


def _bounded(value: Decimal) -> bool:
    """Finite, with an exponent small enough that converting it costs nothing (1e99999999 is not)."""
    return value.is_finite() and (value.is_zero() or -30 <= value.adjusted() <= 30)


def _is_absent(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, str) and value.strip().strip('"').strip().lower() in _NULL_TEXTS


# --- columns ---------------------------------------------------------------------------------------


def integers(
    values: Iterable[object], field: str, low: int = INT64_MIN, high: int = INT64_MAX, labels: bool = False
) -> np.ndarray:
    """A column of file values as int64 (see `integer`); each distinct value is converted once."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu" and values.dtype.itemsize <= 8:
        return _in_range(values.astype(np.int64, copy=False), field, low, high)
    values = values if isinstance(values, (list, tuple)) else list(values)
    if set(map(type, values)) <= {int, np.int64}:  # numpy would truncate floats and parse text silently
        try:
            return _in_range(np.fromiter(values, dtype=np.int64, count=len(values)), field, low, high)
        except OverflowError:
            pass
    cache: dict[object, tuple] = {}
    converted = (_cached_integer(cache, v, field, low, high, labels) for v in values)
    return np.fromiter(converted, dtype=np.int64, count=len(values))


def _cached_integer(
    cache: dict[object, tuple], value: object, field: str, low: int, high: int, labels: bool
) -> int:
    key = (type(value), value) if _hashable(value) else None
    found = cache.get(key) if key is not None else None
    if found is None:
        found = _checked_integer(value, low, high, labels)
        if key is not None:
            cache[key] = found
    if found[1]:
        note(field, found[1])
    return found[0]


def _hashable(value: object) -> bool:
    return isinstance(value, (int, float, str, bytes, Decimal)) or value is None


def _in_range(column: np.ndarray, field: str, low: int, high: int) -> np.ndarray:
    if low == INT64_MIN and high == INT64_MAX:
        return column
    outside = (column < low) | (column > high)
    outside &= column != NONE
    if outside.any():
        note(field, f"outside [{low}, {high}], read as unknown", int(outside.sum()))
        column = np.where(outside, NONE, column)
    return column


def float_us_to_ns(values_us: np.ndarray, field: str) -> np.ndarray:
    """Float µs to int64 ns (timeunits.us_to_ns); non-finite or out-of-range values become INVALID_NS
    (noted)."""
    bad = ~np.isfinite(values_us) | (np.abs(np.nan_to_num(values_us)) > MAX_US)
    converted = timeunits.us_to_ns(np.where(bad, 0.0, values_us))
    if bad.any():
        note(field, "missing, not a finite number or out of range; event dropped", int(bad.sum()))
        converted[bad] = INVALID_NS
    return converted


class Block(NamedTuple):
    """A reader's columns for `n` events of one source table, as `event_table` takes them."""

    columns: dict[str, object]
    n: int


def event_table(columns: dict[str, object], n: int, extra: dict[str, pa.Array] | None = None) -> pa.Table:
    """The canonical table from a reader's columns, after the boundary checks: rows with an invalid
    or negative time, or an end past int64, are dropped; device ids outside [0, 2^31) and negative
    byte counts become NONE; names are cut at MAX_NAME_CHARS. Every change is noted. `extra`
    columns (a reader's optional ones, docs/model.md) are appended and filtered with the rows."""
    return _checked_table(resident.after(_converted(columns)), n, extra)


def blocks_table(blocks: list[Block]) -> pa.Table:
    """One canonical table from several blocks, checked as `event_table` checks one: each block's
    values converted, each column filled into one array for all blocks (a block without it gets
    the column's default there), then the rows checked and the table built once."""
    if len(blocks) == 1:
        return event_table(*blocks[0])
    converted = [Block(_converted(block.columns), block.n) for block in blocks]
    total = sum(block.n for block in converted)
    fields = {field for block in converted for field in block.columns} - {"name"}
    columns = {field: _joined(converted, field, total) for field in sorted(fields)}
    names = [name_array(block.columns["name"]) for block in converted]
    columns["name"] = pa.chunked_array(names).unify_dictionaries().combine_chunks()
    return _checked_table(columns, total)


def _joined(blocks: list[Block], field: str, total: int) -> np.ndarray:
    """One column of all blocks, written once into its final array."""
    joined = np.empty(total, dtype=numpy_type(field))
    start = 0
    for block in blocks:
        values = block.columns.get(field)
        joined[start : start + block.n] = column_default(field) if values is None else values
        start += block.n
    return joined


def _converted(columns: dict[str, object]) -> dict[str, object]:
    """The integer columns converted and range-checked (`integers`)."""
    columns = dict(columns)
    for field in ("start_ns", "dur_ns", "stream", "process", "thread", "correlation", "external_id"):
        if field in columns:
            columns[field] = integers(columns[field], field)
    if "device" in columns:
        columns["device"] = integers(columns["device"], "device", NONE, INT32_MAX)
    if "bytes" in columns:
        columns["bytes"] = integers(columns["bytes"], "bytes", NONE, INT64_MAX)
    return columns


def _checked_table(columns: dict[str, object], n: int, extra: dict[str, pa.Array] | None = None) -> pa.Table:
    keep = resident.after(_valid_times(columns, n))  # a spilled store's pages given back after each pass
    table = resident.after(build_table(columns, n))
    for name, array in (extra or {}).items():
        table = table.append_column(pa.field(name, array.type, nullable=False), array)
    table = table if keep is None else table.filter(arrow(keep))
    return _names_cut(table)


def _valid_times(columns: dict[str, object], n: int) -> np.ndarray | None:
    start = columns.get("start_ns")
    if start is None or n == 0:
        return None
    dur = columns.get("dur_ns")
    dur = np.zeros(n, dtype=np.int64) if dur is None else dur
    bad_start = (start == INVALID_NS) | (start == NONE)
    bad_dur = ~bad_start & (dur < 0)
    overflow = ~bad_start & ~bad_dur & ((start > MAX_TIME_NS - np.maximum(dur, 0)) | (start < -MAX_TIME_NS))
    note("start_ns", "unknown or out of range; event dropped", int((start == NONE).sum()))
    note("dur_ns", "negative (end before start); event dropped", int((bad_dur & (dur != INVALID_NS)).sum()))
    note("dur_ns", "end past 2^62 ns (or start before -2^62); event dropped", int(overflow.sum()))
    keep = ~(bad_start | bad_dur | overflow)
    return None if keep.all() else keep


def _names_cut(table: pa.Table) -> pa.Table:
    names = table.column("name").combine_chunks()
    dictionary = names.dictionary.to_pylist()
    long = [i for i, name in enumerate(dictionary) if len(name) > MAX_NAME_CHARS]
    if not long:
        return table
    for i in long:
        dictionary[i] = dictionary[i][:MAX_NAME_CHARS]
    note("name", f"longer than {MAX_NAME_CHARS} characters, cut", len(long))
    cut = pa.DictionaryArray.from_arrays(names.indices, strings(dictionary))
    return table.set_column(table.schema.get_field_index("name"), "name", cut)
