"""The hardware table (hardware.toml beside this file): dense peak rates and memory bandwidth per chip."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

PRECISIONS = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8")


@dataclass(frozen=True)
class Hardware:
    """One row: peak TFLOP/s per precision (absent when not published) and memory bandwidth in GB/s."""

    name: str
    vendor: str
    match: str
    peak_tflops: dict[str, float] = field(default_factory=dict)
    memory_gbps: float | None = None
    host_link_gbps: float | None = None
    sources: tuple[str, ...] = ()
    note: str = ""

    def peak(self, precision: str) -> float | None:
        return self.peak_tflops.get(precision)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "vendor": self.vendor,
            "peak_tflops": {p: self.peak_tflops.get(p) for p in PRECISIONS},
            "memory_gbps": self.memory_gbps,
            "host_link_gbps": self.host_link_gbps,
            "sources": list(self.sources),
            "note": self.note or None,
        }


@cache
def hardware_table() -> tuple[Hardware, ...]:
    """Every row of hardware.toml, in file order."""
    data = tomllib.loads(files("tracekit.perfmodel").joinpath("hardware.toml").read_text(encoding="utf-8"))
    return tuple(
        Hardware(
            name=row["name"],
            vendor=row["vendor"],
            match=row["match"],
            peak_tflops={k: float(v) for k, v in row.get("peak_tflops", {}).items()},
            memory_gbps=float(row["memory_gbps"]) if "memory_gbps" in row else None,
            host_link_gbps=float(row["host_link_gbps"]) if "host_link_gbps" in row else None,
            sources=tuple(row.get("sources", ())),
            note=row.get("note", ""),
        )
        for row in data["device"]
    )


def find_hardware(name: str) -> Hardware | None:
    """The row named `name` (case-insensitive), else the first whose `match` is found in it, else None."""
    wanted = name.strip().lower()
    if not wanted:
        return None
    for row in hardware_table():
        if row.name.lower() == wanted:
            return row
    return next((row for row in hardware_table() if re.search(row.match, name, re.IGNORECASE)), None)


def hardware_names() -> list[str]:
    return [row.name for row in hardware_table()]
