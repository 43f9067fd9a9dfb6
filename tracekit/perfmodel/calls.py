"""One operator call as the performance models see it: its name, input shapes, dtypes and values.

Shapes and dtypes come from Kineto `Input Dims` / `Input type` / `Concrete Inputs` (JSON lists, one
entry per argument) or from Ascend `Input Shapes` / `Input Data Types` (`32,1000;32`, `FLOAT;INT64`).
Dtypes are canonical short names (`fp32`, `bf16`, ...); a non-tensor argument has dtype "".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

Shape = tuple[int, ...]

DTYPE_BYTES = {
    "fp64": 8, "fp32": 4, "fp16": 2, "bf16": 2, "fp8": 1, "int8": 1, "uint8": 1,
    "int16": 2, "int32": 4, "int64": 8, "bool": 1, "complex64": 8, "complex128": 16,
}  # fmt: skip
_DTYPE_NAMES = {
    # Kineto (c10 type names)
    "float": "fp32", "double": "fp64", "c10::half": "fp16", "c10::bfloat16": "bf16",
    "c10::float8_e4m3fn": "fp8", "c10::float8_e5m2": "fp8", "c10::float8_e4m3fnuz": "fp8",
    "c10::float8_e5m2fnuz": "fp8", "signed char": "int8", "unsigned char": "uint8", "short int": "int16",
    "int": "int32", "long int": "int64", "bool": "bool", "c10::complex<float>": "complex64",
    "c10::complex<double>": "complex128",
    # Ascend (msprof Data Types, with or without the DT_ prefix)
    "float32": "fp32", "float16": "fp16", "bf16": "bf16", "bfloat16": "bf16", "int8": "int8",
    "uint8": "uint8", "int16": "int16", "int32": "int32", "int64": "int64", "hifloat8": "fp8",
    "float8_e4m3fn": "fp8", "float8_e5m2": "fp8",
}  # fmt: skip


def canonical_dtype(name: str) -> str:
    """`fp32`, `bf16`, ... for a Kineto or Ascend dtype name; "" for non-tensors and unknown names."""
    key = name.strip().lower().removeprefix("dt_")
    return _DTYPE_NAMES.get(key, "")


@dataclass(frozen=True)
class OpCall:
    """One call: per argument, its shape (None when not a tensor), dtype ("" when not a tensor) and
    concrete value as the profiler wrote it ("" when not recorded)."""

    name: str
    shapes: tuple[Shape | None, ...]
    dtypes: tuple[str, ...]
    values: tuple[str, ...] = ()

    def tensor(self, index: int) -> Shape | None:
        """The shape of argument `index` when it is a tensor, else None."""
        if index >= len(self.shapes) or index >= len(self.dtypes) or not self.dtypes[index]:
            return None
        return self.shapes[index]

    def tensors(self) -> list[tuple[Shape, str]]:
        """(shape, dtype) of every tensor argument, in order."""
        found = [(self.tensor(i), self.dtypes[i]) for i in range(min(len(self.shapes), len(self.dtypes)))]
        return [(shape, dtype) for shape, dtype in found if shape is not None]

    def value(self, index: int) -> str:
        return self.values[index].strip() if index < len(self.values) else ""

    def int_list(self, index: int) -> tuple[int, ...] | None:
        """A concrete int or int list (`[1, 1]`, `2`), or None when not recorded or not integers."""
        text = self.value(index)
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        items = value if isinstance(value, list) else [value]
        return tuple(items) if all(isinstance(v, int) and not isinstance(v, bool) for v in items) else None

    def flag(self, index: int) -> bool:
        return self.value(index) == "True"

    def dtype(self) -> str:
        """The compute dtype: that of the first floating-point (else first) tensor argument."""
        kinds = [dtype for _, dtype in self.tensors()]
        floating = [d for d in kinds if d in ("fp64", "fp32", "fp16", "bf16", "fp8")]
        return (floating or kinds or [""])[0]


def kineto_call(name: str, dims: str, types: str, values: str) -> OpCall:
    """An OpCall from the JSON text of Kineto's `Input Dims`, `Input type` and `Concrete Inputs`."""
    shape_list, type_list = _json_list(dims), _json_list(types)
    value_list = [str(v) for v in _json_list(values)]
    shapes = tuple(_shape(item) for item in shape_list)
    dtypes = tuple(canonical_dtype(str(t)) for t in type_list)
    return OpCall(name, shapes, dtypes, tuple(value_list))


def ascend_call(name: str, shapes: str, dtypes: str) -> OpCall:
    """An OpCall from Ascend `Input Shapes` (`32,1000;32`) and `Input Data Types` (`FLOAT;INT64`)."""
    parts = shapes.strip().strip('"').split(";") if shapes.strip() else []
    parsed = tuple(_ascend_shape(part) for part in parts)
    kinds = tuple(canonical_dtype(d) for d in dtypes.strip().strip('"').split(";")) if dtypes else ()
    return OpCall(name, parsed, kinds)


def numel(shape: Shape) -> int:
    return math.prod(shape)


def nbytes(shape: Shape, dtype: str) -> int:
    return numel(shape) * DTYPE_BYTES.get(dtype, 0)


def broadcast(*shapes: Shape) -> Shape | None:
    """The broadcast shape (NumPy / PyTorch rules), or None when the shapes do not broadcast."""
    width = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(-width, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(sizes) > 1:
            return None
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def io_bytes(call: OpCall, out_numel: int, out_dtype: str | None = None) -> int:
    """Bytes of every tensor input read once plus the output written once (the least traffic)."""
    read = sum(nbytes(shape, dtype) for shape, dtype in call.tensors())
    return read + out_numel * DTYPE_BYTES.get(out_dtype or call.dtype(), 0)


def _json_list(text: str) -> list:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _shape(item: object) -> Shape | None:
    if isinstance(item, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in item):
        return tuple(item)
    return None  # tensor lists and other nested values


def _ascend_shape(part: str) -> Shape | None:
    text = part.strip()
    if not text:
        return ()
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        return None
