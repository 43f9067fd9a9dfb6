"""Kernel growth under twice the work (tracekit/analysis/batch_growth.py), from the H200 row of
hardware.toml (fp32 67, TF32 494.5 dense TFLOP/s, 4800 GB/s): factor = 1 + roofline / kernel time."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_precision import ELEMENTWISE, SGEMM, SQUARE, SQUARE_BYTES, TF32_GEMM, _effects_trace, h200  # noqa: F401

from tracekit.analysis.batch_growth import doubled_work_factors
from tracekit.perfmodel.hardware import Hardware


def test_factors_are_one_plus_the_roofline_share(tmp_path: Path, h200: Hardware) -> None:  # noqa: F811
    """SIMT mm: 2 x 4096^3 / 67e3 = 2.05 ms of roofline for 100 us measured: capped, x2. TF32 mm:
    2 x 4096^3 / 494.5e3 = 278 us for 50 us: capped, x2. add of 1024^2 fp32 (12 MiB moved):
    12,582,912 / 4800 = 2,621 ns for 10 us: x1.262; for 4 us: x1.655; mul for 3 us: x1.874."""
    cols, trace = _effects_trace(tmp_path)
    factors = doubled_work_factors(trace.events, cols, 0, h200).among(cols.device_ops(0))
    row = {cols.names[cols.name_code[r]] + f"@{cols.start[r] // 100_000}": r for r in cols.device_ops(0)}
    moved = 3 * 1024 * 1024 * 4 / 4800
    assert SQUARE / 67e3 > 100_000 and SQUARE_BYTES / 4800 < 50_000
    assert factors[row[f"{SGEMM}@1"]] == 2.0 and factors[row[f"{TF32_GEMM}@2"]] == 2.0
    assert factors[row[f"{ELEMENTWISE}@3"]] == pytest.approx(1 + moved / 10_000)
    assert factors[row[f"{ELEMENTWISE}@4"]] == pytest.approx(1 + moved / 4_000)
    assert factors[row[f"{ELEMENTWISE}@5"]] == pytest.approx(1 + moved / 3_000)


def test_no_hardware_no_factors(tmp_path: Path) -> None:
    cols, trace = _effects_trace(tmp_path)
    assert len(doubled_work_factors(trace.events, cols, 0, None)) == 0
