"""Bad budget TOML files and analysis JSONs, and the cases generated at run time (too large to check in,
or not storable in git: FIFOs, symlink loops, mode-000 folders, folders named `run#1`)."""

from __future__ import annotations

import codecs
import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

from ascend_builder import write_rank
from gen_ascend import kernel_rows, timeline_events, timeline_text, write_db
from gen_gpu import RAW, kineto_events, kineto_text, nsys_export

Builder = Callable[[Path], None]
DEPTH = 100_000
HUGE_NAME = 40 << 20  # 40 MiB: the 100 MiB name took 83 s and 6 GiB
BOMB_MEMBER = 64 << 20  # each gzip member expands to 64 MiB of spaces
BOMB_MEMBERS = 64  # 4 GiB expanded, past the 3 GiB address-space limit of the run


# --- budget TOML ---------------------------------------------------------------------------------


def budget_files() -> dict[str, Builder]:
    """budget/<case> -> builder; run as `check GOOD --baseline GOOD --budget FILE`."""
    texts = {
        "good.toml": 'step.p50 = "+10%"\nh2d.per_step = "<= 1000"\n',
        "not_toml.toml": "step.p50 = +10%\n[[[\n",
        "empty.toml": "# nothing\n",
        "value_number.toml": "step.p50 = 5\n",
        "value_table_list.toml": "step.p50 = [[1, 2], {a = 1}]\n",
        "unknown_metric.toml": 'no.such.metric = "+5%"\n',
        "amount_1e99999999.toml": 'step.p50 = "+1e99999999%"\n',
        "amount_1e308.toml": 'h2d.per_step = "<= 1e308"\n',
        "amount_nan.toml": 'h2d.per_step = "<= nan"\n',
        "amount_inf.toml": 'step.p50 = "+inf%"\n',
        "amount_superscript.toml": 'step.p50 = "+5²%"\n',
        "bad_unit.toml": 'step.p50 = "+5 parsecs"\n',
        "duration_on_count.toml": 'h2d.per_step = "+5ms"\n',
    }
    files: dict[str, Builder] = {name: _text(text) for name, text in texts.items()}
    files["int_5000_digits.toml"] = _text("h2d.per_step = " + "7" * 5000 + "\n")
    files["binary.toml"] = lambda p: p.write_bytes(b"step.p50 = \xff\xfe\x00\n")
    files["bom.toml"] = lambda p: p.write_bytes(codecs.BOM_UTF8 + texts["good.toml"].encode())
    return files


def _text(text: str) -> Builder:
    return lambda path: path.write_text(text)


# --- analysis JSON (tracekit report) -------------------------------------------------------------


def analysis_document(trace: Path) -> dict:
    """The analysis `tracekit analyze` writes for `trace`."""
    import msgspec

    from tracekit.analysis.analyze import analyze
    from tracekit.analysis.document import encode
    from tracekit.analysis.document.recommendations import Recommendations
    from tracekit.readers import read_trace
    from tracekit.rules import CHANGES, recommend

    document = analyze(read_trace(trace), changes=CHANGES)
    recommendations = msgspec.convert(recommend(document, "en"), Recommendations)
    return json.loads(encode(msgspec.structs.replace(document, recommendations=recommendations)))


def analysis_files(good_trace: Path) -> dict[str, Builder]:
    """analysis/<case> -> builder; run as `report FILE --html OUT`."""
    seed = analysis_document(good_trace)

    def edited(edit: Callable[[dict], object], raw: str = "") -> Builder:
        def build(path: Path) -> None:
            document = json.loads(json.dumps(seed))
            edit(document)
            path.write_text(json.dumps(document, indent=1).replace(json.dumps(RAW), raw))

        return build

    def device(key: str, value: object) -> Callable[[dict], object]:
        return lambda d: d["devices"][0].__setitem__(key, value)

    text = json.dumps(seed, indent=1)
    return {
        "good.analysis.json": lambda p: p.write_text(text),
        "truncated.analysis.json": lambda p: p.write_text(text[: len(text) // 2]),
        "not_json.analysis.json": lambda p: p.write_text("not json at all"),
        "array.analysis.json": lambda p: p.write_text("[1, 2]"),
        "schema_other.analysis.json": edited(lambda d: d.__setitem__("schema", "tracekit.analysis/999")),
        "no_devices.analysis.json": edited(lambda d: d.pop("devices")),
        "device_not_object.analysis.json": edited(lambda d: d.__setitem__("devices", ["x", 1])),
        "busy_nan.analysis.json": edited(device("busy_ns", RAW), "NaN"),
        "busy_1e308.analysis.json": edited(device("busy_ns", 1e308)),
        "busy_text.analysis.json": edited(device("busy_ns", "abc")),
        "busy_1e99999999.analysis.json": edited(device("busy_ns", RAW), "1e99999999"),
        "busy_5000_digits.analysis.json": edited(device("busy_ns", RAW), "7" * 5000),
        "steps_null.analysis.json": edited(lambda d: d.__setitem__("steps", {"count": None, "x": []})),
        "bom.analysis.json": lambda p: p.write_bytes(codecs.BOM_UTF8 + text.encode()),
    }


# --- generated at run time -----------------------------------------------------------------------


def deep(prefix: str, suffix: str, opener: str = "[", closer: str = "]") -> Builder:
    """A document nested DEPTH levels deep between `prefix` and `suffix`."""
    return lambda path: path.write_text(prefix + opener * DEPTH + closer * DEPTH + suffix)


def huge_kineto_name(path: Path) -> None:
    events = kineto_events()
    next(e for e in events if e["cat"] == "kernel")["name"] = RAW
    path.write_text(kineto_text(events, json.dumps("void " + "k" * HUGE_NAME + "<int>(int)")))


def huge_ascend_name(path: Path) -> None:
    events = timeline_events()
    events[2]["name"] = RAW
    path.write_text(timeline_text(events, json.dumps("a" * HUGE_NAME)))


def huge_nsys_name(path: Path) -> None:
    export = nsys_export()
    export.strings = {(("v" * HUGE_NAME) if i == 1 else s): i for s, i in export.strings.items()}
    export.write(path)


def huge_csv_name(path: Path) -> None:
    from gen_gpu import CSV_HEADER, CSV_ROWS

    rows = [*CSV_ROWS[:2], CSV_ROWS[2].rsplit(",", 1)[0] + "," + "n" * HUGE_NAME]
    path.write_text("\n".join([CSV_HEADER, *rows]) + "\n")


def gzip_bomb(prefix: bytes) -> Builder:
    """`prefix` then BOMB_MEMBERS gzip members of BOMB_MEMBER spaces each: ~4 MiB on disk, 4 GiB inside."""

    def build(path: Path) -> None:
        member = gzip.compress(b" " * BOMB_MEMBER, compresslevel=9, mtime=0)
        path.write_bytes(gzip.compress(prefix, mtime=0) + member * BOMB_MEMBERS)

    return build


def long_header(path: Path) -> None:
    """A valid Kineto trace whose `traceEvents` key comes after 30 KB of deviceProperties."""
    properties = [{"id": i, "name": "NVIDIA H100 80GB HBM3", "totalGlobalMem": 85e9, "pad": "x" * 400}
                  for i in range(64)]  # fmt: skip
    document = {"schemaVersion": 1, "deviceProperties": properties, "traceEvents": kineto_events()}
    path.write_text(json.dumps(document))


def fifo(path: Path) -> None:
    os.mkfifo(path)


def symlink_loop(path: Path) -> None:
    partner = path.with_name("partner.json")
    path.symlink_to(partner.name)
    partner.symlink_to(path.name)


def rank_with_dir_loop(path: Path) -> None:
    root = write_rank(path, 0, timeline_events(), kernels=kernel_rows())
    (root / "ASCEND_PROFILER_OUTPUT" / "loop").symlink_to("..", target_is_directory=True)


def unreadable_folder(path: Path) -> None:
    root = write_rank(path, 0, timeline_events())
    (root / "ASCEND_PROFILER_OUTPUT").chmod(0)


def unreadable_file(path: Path) -> None:
    path.write_text(kineto_text(kineto_events()))
    path.chmod(0)


def nsys_file(path: Path) -> None:
    nsys_export().write(path)


RUNTIME: dict[str, tuple[str, Builder]] = {  # name -> (file or folder name, builder)
    "deep_kineto": ("deep.json", deep('{"traceEvents": [', "]}")),
    "deep_chrome_array": ("deep_array.json", deep("[", "]")),
    "deep_args": ("deep_args.json", deep('{"traceEvents": [{"ph": "X", "args": ', "}]}", '{"a":', "}")),
    "deep_nsys_json": ("deep_nsys.json", deep('{"data":["", ', "]}\n")),
    "deep_ascend": (
        "trace_view.json",
        deep(
            '[{"ph": "M", "name": "process_name", "pid": 3, "args": '
            '{"name": "Ascend Hardware"}}, {"ts": "1.0", "args": ',
            "}]",
            '{"a":',
            "}",
        ),
    ),
    "deep_analysis": ("deep.analysis.json", deep('{"schema": "tracekit.analysis/1", "trace": ', "}")),
    "deep_budget_keys": ("deep_keys.toml", lambda p: p.write_text(".".join(["a"] * DEPTH) + ' = "+5%"\n')),
    "deep_budget_array": ("deep_array.toml", deep("step.p50 = ", "\n")),
    "huge_kineto_name": ("huge_name.json", huge_kineto_name),
    "huge_ascend_name": ("trace_view.json", huge_ascend_name),
    "huge_nsys_name": ("huge_name.sqlite", huge_nsys_name),
    "huge_csv_name": ("huge_name_cuda_gpu_trace.csv", huge_csv_name),
    "gzip_bomb_kineto": ("bomb.json.gz", gzip_bomb(b'{"schemaVersion": 1, "traceEvents": [')),
    "gzip_bomb_ascend": ("trace_view.json.gz", gzip_bomb(b'[{"ph": "M", "name": "process_name", ')),
    "long_header": ("long_header.json", long_header),
    "fifo": ("fifo.json", fifo),
    "symlink_loop": ("loop.json", symlink_loop),
    "rank_with_dir_loop": ("with_loop", rank_with_dir_loop),
    "unreadable_folder": ("unreadable", unreadable_folder),
    "unreadable_file": ("unreadable.json", unreadable_file),
    "run_hash_nsys": ("run#1/report.sqlite", nsys_file),
    "run_question_nsys": ("run?1/report.sqlite", nsys_file),
    "run_hash_ascend_db": ("run#1/ascend_pytorch_profiler_0.db", write_db),
    "run_question_ascend_db": ("run?1/ascend_pytorch_profiler_0.db", write_db),
    "run_hash_ascend_dir": ("run#1", lambda p: write_rank(p, 0, timeline_events(), kernels=kernel_rows())),
    "readonly_nsys": ("readonly/report.sqlite", nsys_file),
    "readonly_ascend_db": ("readonly/ascend_pytorch_profiler_0.db", write_db),
    "empty_folder": ("empty", lambda p: p.mkdir()),
    "empty_file": ("empty.json", lambda p: p.write_bytes(b"")),
    "missing": ("missing.json", lambda p: None),
}


def build_runtime(name: str, folder: Path) -> Path:
    """Build the run-time case `name` inside `folder`; returns the input path."""
    relative, build = RUNTIME[name]
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    build(path)
    if name.startswith("readonly"):
        path.parent.chmod(0o555)
        path.chmod(0o444)
    return path
