"""communication.json (torch_npu's ASCEND_PROFILER_OUTPUT, `msprof --analyze` output): per step and
per communication operator, msprof's time split (elapse = transit + wait + idle; synchronization is
part of the wait) and the bytes and transit time of each link type (HCCS, PCIE,
RDMA, SDMA, SIO). Summed here by operator name (the name without its `__<ids>@<group>` suffix,
`hcom_allReduce`), in integer ns and bytes (MB = 10^6 bytes: MB / ms is msprof's GB/s), for
`Trace.metadata["ascend"]["communication_json"]`. Formats: docs/formats.md."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from tracekit.readers import checked
from tracekit.readers.source import decode_json, read_buffer

TIMES = {
    "elapse_ns": "Elapse Time(ms)",
    "transit_ns": "Transit Time(ms)",
    "wait_ns": "Wait Time(ms)",
    "synchronization_ns": "Synchronization Time(ms)",
    "idle_ns": "Idle Time(ms)",
}
TOTAL_OP = "Total Op Info"
_SUFFIX = re.compile(r"_+\d+(?:_\d+)*$")
_MILLION = Decimal(1_000_000)


def read_communication(paths: list[Path]) -> dict[str, object] | None:
    """The operators of every communication.json in `paths`, summed by name; None without a file."""
    if not paths:
        return None
    summary: dict[str, object] = {"operations": 0, "steps": [], "by_name": {}, "total_op_info": _zero()}
    for path in paths:
        document = decode_json(path, read_buffer(path), what="communication.json")
        for step, groups in document.items() if isinstance(document, dict) else ():
            summary["steps"].append(str(step))
            for operators in groups.values() if isinstance(groups, dict) else ():
                _add_group(summary, operators if isinstance(operators, dict) else {})
    return summary


def operator_name(name: str) -> str:
    """`hcom_allReduce__586_0_1@17522688603477080586` -> `hcom_allReduce`."""
    return _SUFFIX.sub("", name.split("@", 1)[0]) or name


def _zero() -> dict[str, int]:
    return dict.fromkeys(TIMES, 0)


def _add_group(summary: dict, operators: dict) -> None:
    for name, operator in operators.items():
        if not isinstance(operator, dict):
            continue
        times = _times(operator.get("Communication Time Info"))
        if name == TOTAL_OP:
            _accumulate(summary["total_op_info"], times)
            continue
        entry = summary["by_name"].setdefault(operator_name(str(name)), {"count": 0, **_zero(), "links": {}})
        entry["count"] += 1
        _accumulate(entry, times)
        _add_links(entry["links"], operator.get("Communication Bandwidth Info"))
        summary["operations"] += 1


def _accumulate(into: dict, values: dict[str, int]) -> None:
    for key, value in values.items():
        into[key] += value


def _times(info: object) -> dict[str, int]:
    info = info if isinstance(info, dict) else {}
    return {key: _scaled(info.get(field), f"communication.json {field}") for key, field in TIMES.items()}


def _add_links(links: dict, info: object) -> None:
    """Each link type's bytes and transit time, for the links that carried something."""
    for link, values in info.items() if isinstance(info, dict) else ():
        if not isinstance(values, dict):
            continue
        size = _scaled(values.get("Transit Size(MB)"), "communication.json Transit Size(MB)")
        time = _scaled(values.get("Transit Time(ms)"), "communication.json Transit Time(ms)")
        if size or time:
            entry = links.setdefault(str(link), {"bytes": 0, "transit_ns": 0})
            entry["bytes"] += size
            entry["transit_ns"] += time


def _scaled(value: object, field: str) -> int:
    """ms as ns, or MB as bytes (both x 10^6), rounded; 0 when absent, noted when unusable."""
    if value is None:
        return 0
    number = checked.number(value)
    if number is None or number < 0:
        checked.note(field, "not a finite non-negative number, read as 0")
        return 0
    return int((number * _MILLION).to_integral_value())
