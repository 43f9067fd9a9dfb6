"""Recognising Ascend profiler data by its first bytes: a timeline, a profiler DB, a summary CSV.

Format detection runs these for every input, Kineto traces included, so this module imports only the
standard library and the header vocabulary (`headers`): the reader (`ranks`) and its pyarrow, numpy
and sqlite3 load when Ascend input is read.
"""

from __future__ import annotations

import csv
import io
import re

from tracekit.readers.ascend.headers import (
    API_STATISTIC_REQUIRED,
    KERNEL_REQUIRED,
    OP_STATISTIC_REQUIRED,
    STEP_TRACE_REQUIRED,
    header_roles,
)
from tracekit.readers.magic import SQLITE_MAGIC

ASCEND_PROCESSES = (b'"Ascend Hardware"', b'"CANN"', b'"Overlap Analysis"', b'"HCCL"', b'"AscendCL@')
_STRING_TS = re.compile(rb'"ts"\s*:\s*"\d+(\.\d+)?"')
JSON_ARRAY = re.compile(rb"^\s*\[\s*(\]|\{)")
_CSV_ROLES = (
    ((*KERNEL_REQUIRED, "core_type"), "kernels"),
    (STEP_TRACE_REQUIRED, "step_trace_time"),
    (OP_STATISTIC_REQUIRED, "op_statistic"),
    (API_STATISTIC_REQUIRED, "api_statistic"),
)
"""(alias keys its header has, role) of each summary CSV, in the order they are tried."""


def sniff_ascend(head: bytes) -> bool:
    """True for an msprof / torch_npu timeline, an Ascend profiler DB, or an op_summary-style CSV."""
    if head.startswith(SQLITE_MAGIC):
        return b"STRING_IDS" in head and (b"COMPUTE_TASK_INFO" in head or b"CANN_API" in head)
    return sniff_timeline(head) or sniff_csv(head)


def sniff_timeline(head: bytes) -> bool:
    """True when the first bytes look like an msprof / torch_npu timeline (a bare array of events)."""
    if not JSON_ARRAY.match(head):
        return False
    return any(mark in head for mark in ASCEND_PROCESSES) or _STRING_TS.search(head) is not None


def sniff_csv(head: bytes) -> bool:
    """True when the first line is the header of an Ascend summary CSV with events."""
    return csv_role(head) == "kernels"


def csv_role(head: bytes) -> str | None:
    """Which summary CSV the first line is the header of (a RankFiles role), if any."""
    try:
        first = next(csv.reader(io.StringIO(head.decode("utf-8-sig", "replace").splitlines()[0])))
    except (StopIteration, IndexError, csv.Error):
        return None
    roles = header_roles(first)
    for required, role in _CSV_ROLES:
        if set(required) <= roles:
            return role
    return None
