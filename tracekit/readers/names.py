"""Event-name rules shared by the readers: which kernels communicate, which calls synchronize."""

from __future__ import annotations

import re

import numpy as np

COMMUNICATION = re.compile(r"nccl|rccl|^hccl|^c10d::|ncclKernel", re.IGNORECASE)
SYNC_CALL = re.compile(r"Synchronize|^cudaStreamWaitEvent$|^hipStreamWaitEvent$")
_API_VERSION = re.compile(r"_v\d+$")


def api_base_name(name: str) -> str:
    """An API name without nsys' version suffix: `cudaStreamWaitEvent_v3020` -> `cudaStreamWaitEvent`."""
    return _API_VERSION.sub("", name)


def name_flags(names: list[str], pattern: re.Pattern[str]) -> np.ndarray:
    """One bool per name: does the pattern occur in it."""
    return np.array([pattern.search(n) is not None for n in names] or [False], dtype=bool)
