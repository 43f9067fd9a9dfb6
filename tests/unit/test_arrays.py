"""tracekit/model/arrays.py: numpy from Arrow and back through buffers, equal to pyarrow's own
conversions (which import pandas), and no pandas for the analysis of a Kineto, nsys or Ascend trace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tracekit.model.arrays import arrow, booleans, numeric, strings
from tracekit.readers.chunked import driver

GPU_TRACES = Path(__file__).resolve().parents[1] / "data" / "gpu"


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.float64])
def test_numeric_reads_what_to_numpy_gives(dtype: type) -> None:
    values = np.array([5, -1, 7, 0, 3], dtype=dtype)
    array = pa.array(values)
    for given in (
        array,
        array.slice(2),
        pa.chunked_array([array]),
        pa.chunked_array([array, array.slice(1, 2)]),
    ):
        got = numeric(given)
        assert got.dtype == dtype and np.array_equal(got, given.to_numpy())
    assert numeric(pa.chunked_array([], type=pa.from_numpy_dtype(dtype))).dtype == dtype


def test_numeric_fills_nulls_when_asked() -> None:
    array = pa.array([1, None, 3, None, 5], pa.int32()).slice(1)
    assert numeric(array, null=-1).tolist() == [-1, 3, -1, 5]
    assert numeric(pa.chunked_array([array, array]), null=0).tolist() == [0, 3, 0, 5] * 2
    assert np.isnan(numeric(array)[0])  # no fill: pyarrow's conversion, nulls as NaN


@pytest.mark.parametrize(
    "values",
    [
        np.arange(5, dtype=np.int64),
        np.array([0.5, -2.0]),
        np.array([True, False, True] * 5),
        np.arange(3, dtype=np.int8),
    ],
)
def test_arrow_makes_what_pa_array_makes(values: np.ndarray) -> None:
    assert arrow(values).equals(pa.array(values))
    assert arrow(values[::2]).equals(pa.array(values[::2]))  # a strided view is made contiguous first


def test_booleans_read_what_to_numpy_gives() -> None:
    flags = pc.equal(pa.array([1, 2, None, 4, 1, 1, 1, 1, 1, 2, 1]), pa.array([1] * 11))
    for given in (flags, flags.slice(3), pa.chunked_array([flags, flags.slice(2, 5)])):
        expected = [bool(value) for value in given.to_pylist()]  # None: False
        assert booleans(given).dtype == bool and booleans(given).tolist() == expected
    assert booleans(flags, null=True).tolist()[2] is True
    assert booleans(pa.chunked_array([], type=pa.bool_())).tolist() == []


def test_strings_make_a_string_array() -> None:
    values = ["", "aten::mm", "ünïcode", "x" * 1000]
    made = strings(values)
    assert made.type == pa.string() and made.equals(pa.array(values, pa.string()))
    assert strings([]).equals(pa.array([], pa.string()))
    with_nulls = ["a", None, "", None, "bc"]
    made = strings(with_nulls)
    assert made.equals(pa.array(with_nulls, pa.string())) and made.null_count == 2


@pytest.mark.parametrize("command", ["analyze", "diff"])
def test_a_kineto_trace_is_analysed_without_pandas(tmp_path: Path, command: str) -> None:
    """pyarrow's conversions import pandas (0.15 to 0.27 s); nothing on the Kineto path needs it."""
    traces = [
        str(GPU_TRACES / "operators_fp32.pt.trace.json.gz"),
        str(GPU_TRACES / "h2d28_separate_run1.pt.trace.json.gz"),
    ]
    outputs = ["--json", str(tmp_path / "a.json"), "--html", str(tmp_path / "a.html")]
    argv = [command, traces[0], *outputs] if command == "analyze" else [command, *traces]
    assert not _imports_pandas(argv)


_PROBE = (
    "import sys; from tracekit.cli.main import main; sys.argv = ['tracekit', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
    "print('pandas' in sys.modules)"
)


def _imports_pandas(argv: list[str]) -> bool:
    """Whether `tracekit *argv` (which must succeed) imported pandas, in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1] == "True"


def test_an_nsys_export_is_analysed_without_pandas(tmp_path: Path) -> None:
    """The nsys reader fetches its columns through ADBC's low-level API (its DB-API module imports
    pyarrow.dataset, which imports pandas: 0.29 s) and converts them here."""
    export = tmp_path / "t.sqlite"
    simulate = [sys.executable, "-m", "tracekit", "simulate", "case000", "--format", "nsys"]
    simulate += ["--inferences", "8", "-o", str(export)]
    subprocess.run(simulate, capture_output=True, check=True, timeout=120)
    outputs = ["--json", str(tmp_path / "a.json"), "--html", str(tmp_path / "a.html")]
    assert not _imports_pandas(["analyze", str(export), *outputs])


_NO_PANDAS_IN_WORKERS = """
import os, sys
from pathlib import Path
main = os.getpid()
class Refused:
    def find_spec(self, name, path=None, target=None):
        if name == "pandas" and os.getpid() != main:
            raise ImportError("pandas in a reader's worker")
sys.meta_path.insert(0, Refused())
from tracekit.readers import read_traces
from tracekit.readers.chunked import driver, split
whole = [t.events for t in read_traces(Path(sys.argv[1]))]
driver.PARALLEL_MIN_BYTES, driver.CHUNK_BYTES, split.QUICK_WINDOW = 0, 16 << 10, 2048
os.environ[driver.JOBS_ENV] = "2"
pools = []
made = driver._pool
driver._pool = lambda jobs: pools.append(jobs) or made(jobs)
chunked = [t.events for t in read_traces(Path(sys.argv[1]))]
print(pools, all(a.equals(b) for a, b in zip(whole, chunked, strict=True)), "pandas" in sys.modules)
"""


def test_an_ascend_trace_is_read_by_workers_and_analysed_without_pandas(tmp_path: Path) -> None:
    """The Ascend readers' conversions go through model/arrays too: neither the analysis nor the
    chunked timeline read's worker processes import pandas (whose import each would pay)."""
    if driver.read_jobs(1 << 30) < 2:
        pytest.skip("one core: no workers")
    folder = tmp_path / "npu"
    simulate = [sys.executable, "-m", "tracekit", "simulate", "case000", "--format", "msprof"]
    subprocess.run([*simulate, "--inferences", "8", "-o", str(folder)], capture_output=True, check=True)
    outputs = ["--json", str(tmp_path / "a.json"), "--html", str(tmp_path / "a.html")]
    assert not _imports_pandas(["analyze", str(folder), *outputs])
    probe = [sys.executable, "-c", _NO_PANDAS_IN_WORKERS, str(folder)]
    done = subprocess.run(probe, capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.split() == ["[2]", "True", "False"], done.stderr
