"""Mutations of valid seed inputs: bytes, JSON / JSON-lines structure, CSV cells, SQLite rows and schema,
TOML values. Each mutator writes one mutated copy of a seed; all randomness comes from the `rng` given."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

Mutator = Callable[[Path, Path, random.Random], None]  # (seed, output, rng)

# literals that readers have choked on: out of range, not finite, not numbers, huge, nested, empty
LITERALS = [
    "1e308", "-1e308", "NaN", "Infinity", "-Infinity", "1e99999999", "-1e99999999", "18446744073709551615",
    "9223372036854775808", "-9223372036854775809", "2147483648", "-2147483649", "-1", "0", "0.5", "1e-320",
    '""', '"²"', '"abc"', '"NaN"', '"1e308"', '"1e99999999"', '"18446744073709551615"', '"-1"', "null",
    "true", "[]", "{}", "[[[[[[[[]]]]]]]]", '{"a": {"b": {"c": []}}}', '"\\u0000"', '"\\ud800"',
    '"' + "x" * 5000 + '"', "7" * 4400,
]  # fmt: skip
CELLS = ["", "abc", "NaN", "inf", "-inf", "1e308", "-1", "1e99999999", "18446744073709551615", "²", "N/A",
         "9223372036854775808", "2147483648", "0", "-0.0", "\"", "\x00", "1,2", "x" * 5000]  # fmt: skip
SQL_VALUES = [None, "abc", "", 1e308, -1e308, 2**63 - 1, -(2**63), -1, 0, 2**31, b"\x00\xff", "1e99999999",
              "18446744073709551615", 0.5, "²"]  # fmt: skip


# --- bytes ---------------------------------------------------------------------------------------


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits: flip, insert a literal, delete, duplicate or truncate."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            out += rng.choice(LITERALS).encode()
            continue
        at = rng.randrange(len(out))
        span = rng.randint(1, min(64, len(out) - at))
        edit = rng.randrange(6)
        if edit == 0:
            out[at] = rng.randrange(256)
        elif edit == 1:
            out[at:at] = rng.choice(LITERALS).encode()
        elif edit == 2:
            del out[at : at + span]
        elif edit == 3:
            out[at:at] = out[at : at + span] * rng.randint(1, 50)
        elif edit == 4:
            del out[at:]
        else:
            out[at : at + span] = bytes(rng.randrange(256) for _ in range(span))
    return bytes(out)


def byte_mutator(seed: Path, out: Path, rng: random.Random) -> None:
    data = _plain(seed.read_bytes())
    mutated = mutate_bytes(data, rng)
    out.write_bytes(gzip.compress(mutated, mtime=0) if rng.random() < 0.1 else mutated)


def _plain(data: bytes) -> bytes:
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


# --- JSON and JSON lines -------------------------------------------------------------------------


def mutate_value(document: object, rng: random.Random, marks: list[str]) -> object:
    """`document` with one node replaced, removed or duplicated; raw literals go in `marks`."""
    nodes = list(_nodes(document, None, None))
    parent, key, _value = rng.choice(nodes)
    literal = rng.choice(LITERALS)
    mark = f"__MARK{len(marks)}__"
    marks.append(literal)
    if parent is None:
        return mark
    edit = rng.randrange(4)
    if edit == 0 and isinstance(parent, dict):
        del parent[key]
    elif edit == 1 and isinstance(parent, list):
        parent.insert(key, json.loads(json.dumps(parent[key])))
    else:
        parent[key] = mark
    return document


def _nodes(value: object, parent: object, key: object):
    yield parent, key, value
    if isinstance(value, dict):
        for k, v in list(value.items()):
            yield from _nodes(v, value, k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, value, i)


def _dump(document: object, marks: list[str]) -> str:
    text = json.dumps(document, ensure_ascii=False)
    for i, literal in enumerate(marks):
        text = text.replace(json.dumps(f"__MARK{i}__"), literal)
    return text


def json_mutator(seed: Path, out: Path, rng: random.Random) -> None:
    """One to three structural edits of a JSON document."""
    document: object = json.loads(_plain(seed.read_bytes()))
    marks: list[str] = []
    for _ in range(rng.randint(1, 3)):
        document = mutate_value(document, rng, marks)
    _write_text(out, _dump(document, marks))


def json_lines_mutator(seed: Path, out: Path, rng: random.Random) -> None:
    """Structural edits of one or two lines of a JSON-lines file (the nsys JSON export); each line
    is parsed from the seed once, so an edit never has to re-read what an earlier edit wrote."""
    lines = seed.read_text().splitlines()
    edited: dict[int, tuple[object, list[str]]] = {}
    for _ in range(rng.randint(1, 2)):
        index = rng.randrange(len(lines))
        value, marks = edited.get(index, (json.loads(lines[index]), []))
        edited[index] = (mutate_value(value, rng, marks), marks)
    for index, (value, marks) in edited.items():
        lines[index] = _dump(value, marks)
    _write_text(out, "\n".join(lines) + "\n")


def _write_text(out: Path, text: str) -> None:
    """UTF-8, lone surrogates included (a hostile input may hold them)."""
    out.write_bytes(text.encode("utf-8", "surrogatepass"))


# --- CSV -----------------------------------------------------------------------------------------


def csv_mutator(seed: Path, out: Path, rng: random.Random) -> None:
    """Cells replaced, a column dropped or a row duplicated."""
    text = seed.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    for _ in range(rng.randint(1, 3)):
        edit, r = rng.randrange(5), rng.randrange(len(rows))
        if edit == 0:
            column = rng.randrange(len(rows[0]))
            rows = [row[:column] + row[column + 1 :] for row in rows]
        elif edit == 1:
            rows.insert(r, list(rows[r]))
        elif rows[r]:
            rows[r][rng.randrange(len(rows[r]))] = rng.choice(CELLS)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    out.write_text(buffer.getvalue())


# --- SQLite --------------------------------------------------------------------------------------


def sqlite_mutator(seed: Path, out: Path, rng: random.Random) -> None:
    """Cells set to odd values, a column or table dropped, a NULL row added; or raw page damage."""
    shutil.copyfile(seed, out)
    if rng.random() < 0.15:
        out.write_bytes(mutate_bytes(out.read_bytes(), rng))
        return
    with sqlite3.connect(out) as db:
        for _ in range(rng.randint(1, 4)):
            _sqlite_edit(db, rng)
    db.close()


def _sqlite_edit(db: sqlite3.Connection, rng: random.Random) -> None:
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    table = rng.choice(tables)
    columns = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
    edit = rng.randrange(8)
    try:
        if edit == 0 and len(columns) > 1:
            db.execute(f'ALTER TABLE "{table}" DROP COLUMN "{rng.choice(columns)}"')
        elif edit == 1:
            db.execute(f'DROP TABLE "{table}"')
        elif edit == 2:
            db.execute(f'INSERT INTO "{table}" DEFAULT VALUES')
        else:
            column = rng.choice(columns)
            where = (
                ""
                if rng.random() < 0.3
                else f'WHERE rowid = (SELECT rowid FROM "{table}" ORDER BY random() LIMIT 1)'
            )
            db.execute(f'UPDATE "{table}" SET "{column}" = ? {where}', (rng.choice(SQL_VALUES),))
    except sqlite3.DatabaseError:
        pass  # a constraint (NOT NULL, PRIMARY KEY) refused the edit: keep the others


# --- TOML ----------------------------------------------------------------------------------------

TOML_VALUES = ['"+5%"', '"<= 2"', '"+1e99999999%"', '"<= nan"', '"+inf%"', "5", "[]", "{a = 1}", '"²"',
               '"+5 parsecs"', '"-5pp"', '"+20us"', '""', "true", '"<= 1e308"',
               '"' + "9" * 5000 + '"']  # fmt: skip
TOML_KEYS = ["step.p50", "utilization", "h2d.per_step", "device.busy_per_step_ns", "no.such", "step",
             "'op[\"*gemm*\"].total_per_step_ns'", "a.b.c.d.e.f", '""', "h2d.share_of_busy"]  # fmt: skip


def toml_mutator(seed: Path, out: Path, rng: random.Random) -> None:
    """A budget of random lines from known keys and odd values, or the seed's bytes mutated."""
    if rng.random() < 0.3:
        out.write_bytes(mutate_bytes(seed.read_bytes(), rng))
        return
    lines = [f"{rng.choice(TOML_KEYS)} = {rng.choice(TOML_VALUES)}" for _ in range(rng.randint(1, 4))]
    out.write_text("\n".join(lines) + "\n")
