"""Collective sizes from the readers' event args: message bytes, collective name and group size.

Kineto copies a collective's parameters onto its NCCL kernel (`Collective name`, `In msg nelems`,
`Out msg nelems`, `Group size`, `dtype`); the Ascend timeline gives an HCCL op's `count` and
`data_type`. The message size follows nccl-tests: the larger of the input and output buffers
(all-gather: the gathered output; reduce-scatter: the input; all-reduce, broadcast, send: either).
"""

from __future__ import annotations

import numpy as np

from tracekit.model.schema import NONE
from tracekit.readers import checked

_DTYPE_BYTES = {
    "double": 8, "float64": 8, "long": 8, "int64": 8, "uint64": 8, "complexfloat": 8,
    "float": 4, "float32": 4, "fp32": 4, "int": 4, "int32": 4, "uint32": 4,
    "half": 2, "float16": 2, "fp16": 2, "bfloat16": 2, "bf16": 2, "short": 2, "int16": 2, "uint16": 2,
    "byte": 1, "char": 1, "bool": 1, "int8": 1, "uint8": 1, "float8_e4m3fn": 1, "float8_e5m2": 1,
    "float8_e4m3fnuz": 1, "float8_e5m2fnuz": 1, "hifloat8": 1,
}  # fmt: skip
"""Element size of the dtype names collectives carry: c10 ScalarType names (Kineto) and HCCL's."""


def dtype_bytes(name: object) -> int:
    """Bytes per element of a dtype name; NONE when unknown."""
    return _DTYPE_BYTES.get(str(name).strip().lower(), NONE) if isinstance(name, str) else NONE


def message_bytes(in_nelems: np.ndarray, out_nelems: np.ndarray, element: np.ndarray) -> np.ndarray:
    """max(in, out) elements x element size; NONE when the elements or the dtype are unknown."""
    nelems = np.maximum(in_nelems, out_nelems)
    known = (nelems >= 0) & (element > 0)
    return np.where(known, nelems * np.where(known, element, 0), NONE)


def kineto_collectives(args: list, rows: np.ndarray, n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """For the communication rows of a Kineto trace (`args` their decoded args): message bytes per
    row of the table (NONE elsewhere), and the optional `collective` (text, "" elsewhere) and
    `group_size` (NONE elsewhere) columns; none when no kernel names its collective."""
    sizes = np.full(n, NONE, dtype=np.int64)
    names = [checked.text(a.collective, "Collective name") for a in args]
    if not any(names):
        return sizes, {}
    element = np.array([dtype_bytes(a.dtype) for a in args], dtype=np.int64)
    in_nelems = checked.integers([a.in_nelems for a in args], "In msg nelems", 0)
    out_nelems = checked.integers([a.out_nelems for a in args], "Out msg nelems", 0)
    sizes[rows] = message_bytes(in_nelems, out_nelems, element)
    text = np.full(n, "", dtype=object)
    text[rows] = names
    group = np.full(n, NONE, dtype=np.int64)
    group[rows] = checked.integers([a.group_size for a in args], "Group size", 1, 1 << 31)
    return sizes, {"collective": text, "group_size": group}
