"""Operators: device time per CPU operator and input signature, with FLOPs, bytes and a roofline
(docs/metrics.md, "Operators"; the JSON block in docs/json.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from tracekit import resident
from tracekit.analysis.columns import Columns
from tracekit.analysis.names import short_kernel_name
from tracekit.analysis.operator_links import operator_rows
from tracekit.analysis.roofline import roofline, tensor_core_summary, unit_times
from tracekit.model.arrays import numeric
from tracekit.model.distinct import distinct_rows
from tracekit.model.schema import NONE, Kind
from tracekit.model.trace import whole_column
from tracekit.perfmodel import COMPUTE_FAMILIES, OpCall, estimate, has_model
from tracekit.perfmodel.calls import ascend_call, kineto_call
from tracekit.perfmodel.hardware import Hardware, find_hardware

MAX_OPERATORS = 100
KERNELS_PER_OPERATOR = 3
_SIGNATURE_COLUMNS = ("input_shapes", "input_dtypes", "input_values")


@dataclass(frozen=True)
class HardwareChoice:
    """The device name the trace gives, the hardware row used (None: unknown) and where it came from."""

    device_name: str | None
    row: Hardware | None
    source: str | None  # "trace" or "option" (--device)


def choose_hardware(metadata: dict, device: int, override: str | None = None) -> HardwareChoice:
    """The row for `device`: the `--device` name when given, else the name the trace records."""
    name = trace_device_name(metadata, device)
    if override:
        return HardwareChoice(name, find_hardware(override), "option")
    row = find_hardware(name) if name else None
    return HardwareChoice(name, row, "trace" if row else None)


def trace_device_name(metadata: dict, device: int) -> str | None:
    """Kineto deviceProperties / nsys TARGET_INFO_GPU name of `device` (else the first), or the
    Ascend chip name (NPU_INFO)."""
    gpus = metadata.get("gpus") or (metadata.get("nsys") or {}).get("gpus") or []
    named = [g for g in gpus if isinstance(g, dict) and g.get("name")]
    if named:
        return str(next((g for g in named if g.get("id") == device), named[0])["name"])
    chips = (metadata.get("ascend") or {}).get("chips") or []
    return str(chips[0]) if chips else None


def operator_block(table: pa.Table, cols: Columns, device: int, choice: HardwareChoice) -> dict:
    """The device's `operators` list, `operators_summary` and `hardware` row (JSON-ready)."""
    ops = cols.device_ops(device)
    ascend = "core_type" in table.column_names
    owner = ops.copy() if ascend else resident.after(operator_rows(table, cols, ops, has_model))
    linked = owner != NONE
    groups = _groups(table, cols, ops[linked], owner[linked], ascend, choice.row)
    groups.sort(key=lambda g: (-g["device_ns"], g["name"]))
    summary = {
        "device_name": choice.device_name,
        "device_ns": int(cols.dur[ops].sum()),
        "attributed_ns": int(cols.dur[ops[linked]].sum()),
        "modelled_ns": sum(g["device_ns"] for g in groups if g["bytes"] is not None),
        "groups": len(groups),
        "listed": min(len(groups), MAX_OPERATORS),
        "tensor_cores": tensor_core_summary(groups),
    }
    summary["notes"] = _notes(table, cols, choice, summary, ascend)
    hardware = None
    if choice.row is not None:
        hardware = {**choice.row.to_json(), "device_name": choice.device_name, "source": choice.source}
    return {"operators": groups[:MAX_OPERATORS], "operators_summary": summary, "hardware": hardware}


def _signature_codes(table: pa.Table, cols: Columns, rows: np.ndarray, ascend: bool) -> list[np.ndarray]:
    """Per row: name code, Ascend op type code, and the shape, dtype and value codes (0 when absent)."""
    codes = [cols.name_code[rows].astype(np.int64)]
    for column in ("op_type", *_SIGNATURE_COLUMNS) if ascend else ("", *_SIGNATURE_COLUMNS):
        if column in table.column_names:
            codes.append(numeric(whole_column(table, column).indices)[rows].astype(np.int64))
        else:
            codes.append(np.zeros(len(rows), dtype=np.int64))
    return codes


def _strings(table: pa.Table, column: str) -> list[str]:
    return whole_column(table, column).dictionary.to_pylist() if column in table.column_names else [""]


def _groups(
    table: pa.Table, cols: Columns, ops: np.ndarray, owner: np.ndarray, ascend: bool, row: Hardware | None
) -> list[dict]:
    if len(ops) == 0:
        return []
    codes = resident.after(_signature_codes(table, cols, owner, ascend))
    first, sig = distinct_rows(*codes)
    signatures = np.stack(codes, axis=1)[first]  # in lexicographic order
    instances = np.bincount(sig[np.unique(owner, return_index=True)[1]], minlength=len(signatures))
    text = {c: _strings(table, c) for c in ("op_type", *_SIGNATURE_COLUMNS)}
    busy = resident.after(_busy_share(cols.start[ops], cols.end[ops], owner))
    by_signature = np.argsort(sig, kind="stable")  # each signature's operations in table order
    bounds = np.searchsorted(sig[by_signature], np.arange(len(signatures) + 1)).tolist()
    groups: dict[tuple, dict] = {}
    for s, codes_of in enumerate(signatures):
        call = _call(cols, text, codes_of, ascend)
        mine = by_signature[bounds[s] : bounds[s + 1]]
        key = (call.name, call.shapes, call.dtypes)
        group = groups.setdefault(key, _new_group(call))
        group["device_ns"] += int(busy[mine].sum())
        _add_signature(group, call, int(instances[s]), cols, ops[mine])
    return [_finish(group, row) for group in groups.values()]


def _busy_share(start: np.ndarray, end: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Each operation's share of the union of its operator call's operations (kernels of one call that
    overlap, on several streams, count once): its ns not covered by earlier-starting ones of the call."""
    order = np.lexsort((start, owner))
    rank = np.unique(owner[order], return_inverse=True)[1].reshape(-1)
    base = int(start.min())
    band = rank * (int(end.max()) - base + 1)  # one band of key space per call keeps the calls apart
    own_start, own_end = start[order] - base + band, end[order] - base + band
    reach = np.concatenate([[0], np.maximum.accumulate(own_end)[:-1]])
    share = np.empty(len(order), dtype=np.int64)
    share[order] = np.maximum(0, own_end - np.maximum(own_start, reach))
    return share


def _call(cols: Columns, text: dict[str, list[str]], codes: np.ndarray, ascend: bool) -> OpCall:
    name_code, type_code, shapes, dtypes, values = (int(c) for c in codes)
    if ascend:
        label = text["op_type"][type_code] or cols.names[name_code]
        return ascend_call(label, text["input_shapes"][shapes], text["input_dtypes"][dtypes])
    return kineto_call(
        cols.names[name_code], text["input_shapes"][shapes], text["input_dtypes"][dtypes],
        text["input_values"][values],
    )  # fmt: skip


def _new_group(call: OpCall) -> dict:
    tensors = call.tensors()
    return {
        "name": call.name,
        "shapes": [list(shape) for shape, _ in tensors],
        "dtypes": [dtype for _, dtype in tensors],
        "dtype": call.dtype(),
        "count": 0,
        "device_ns": 0,
        "kernel_ns": {},
        "costs": [],
    }


def _add_signature(group: dict, call: OpCall, count: int, cols: Columns, ops: np.ndarray) -> None:
    group["count"] += count
    codes, index, total = np.unique(cols.name_code[ops], return_inverse=True, return_counts=True)
    durations = np.bincount(index.reshape(-1), weights=cols.dur[ops], minlength=len(codes))
    for code, ns, n in zip(codes, durations, total, strict=True):
        name = cols.names[int(code)]
        before_ns, before_calls = group["kernel_ns"].get(name, (0, 0))
        group["kernel_ns"][name] = (before_ns + int(ns), before_calls + int(n))
    group["costs"].append((estimate(call), count))


def _finish(group: dict, row: Hardware | None) -> dict:
    costs = group.pop("costs")
    kernel_ns = group.pop("kernel_ns")
    known = all(cost is not None for cost, _ in costs)
    family = costs[0][0].family if known else None
    flops = sum(c.flops * n for c, n in costs) if known and costs[0][0].flops is not None else None
    moved = sum(c.bytes * n for c, n in costs) if known else None
    units = unit_times(kernel_ns, group["dtype"]) if family in COMPUTE_FAMILIES else None
    device_ns = group["device_ns"]
    group.update(
        family=family,
        mean_ns=device_ns / group["count"] if group["count"] else None,
        kernels=_top_kernels(kernel_ns),
        flops=flops,
        bytes=moved,
        intensity=flops / moved if flops is not None and moved else None,
        achieved_tflops=flops / device_ns / 1e3 if flops is not None and device_ns else None,
        achieved_gbps=moved / device_ns if moved is not None and device_ns else None,
        tensor_core_ns=units["tensor_core"] if units else None,
        simt_ns=units["simt"] if units else None,
    )
    group.update(roofline(group, row, units))
    return group


def _top_kernels(kernel_ns: dict[str, tuple[int, int]]) -> list[dict]:
    ranked = sorted(kernel_ns.items(), key=lambda item: (-item[1][0], item[0]))[:KERNELS_PER_OPERATOR]
    return [{"name": short_kernel_name(n), "count": c, "device_ns": ns} for n, (ns, c) in ranked]


def _notes(table: pa.Table, cols: Columns, choice: HardwareChoice, summary: dict, ascend: bool) -> list[str]:
    notes = []
    if not ascend and not (cols.kind == Kind.CPU_OP).any():
        notes.append(
            "no CPU operators in this trace (Nsight Systems exports and device-only traces have none): "
            "no operator table; the kernel hotspots still apply"
        )
    elif "input_shapes" not in table.column_names:
        notes.append(
            "recorded without input shapes: operators are grouped by name alone, with no FLOPs or bytes; "
            "record with torch.profiler.profile(record_shapes=True) for the performance models"
        )
    if choice.row is None:
        named = f"'{choice.device_name}'" if choice.device_name else "the device (the trace does not name it)"
        notes.append(
            f"{named} is not in the hardware table: FLOPs and TFLOP/s are given without a share of peak "
            "or a bound; --device NAME picks a row (tracekit/perfmodel/hardware.toml)"
        )
    elif not choice.row.peak_tflops:
        notes.append(f"{choice.row.name}: {choice.row.note or 'no published peak rates'}")
    unattributed = summary["device_ns"] - summary["attributed_ns"]
    if summary["attributed_ns"] and unattributed > 0:
        share = unattributed / summary["device_ns"]
        notes.append(f"{share:.1%} of device time has no launching CPU operator and is not in the table")
    return notes
