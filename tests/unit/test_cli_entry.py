"""The process entry point (tracekit/cli/entry.py): the process ends without the interpreter's
teardown, having done what that teardown would: threads joined, exit handlers run, output flushed,
the same exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kineto_builder import cpu_op, kernel, runtime, step, write_trace

from tracekit import __version__


def _run(code: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, **kwargs)


def test_the_exit_status_and_output_are_those_of_main(tmp_path: Path) -> None:
    version = subprocess.run([sys.executable, "-m", "tracekit", "version"], capture_output=True, text=True)
    assert (version.returncode, version.stdout) == (0, f"{__version__}\n")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    failed = subprocess.run(
        [sys.executable, "-m", "tracekit", "analyze", str(bad)], capture_output=True, text=True
    )
    assert failed.returncode == 2 and failed.stderr.startswith("tracekit: error: ")
    assert _run("from tracekit.cli import entry; raise SystemExit(entry._status('stop'))").returncode == 1


def test_threads_are_joined_exit_handlers_run_and_a_failed_flush_is_status_120(tmp_path: Path) -> None:
    code = f"""
import atexit, threading, time, sys
from pathlib import Path
from tracekit.cli import entry
out = Path({str(tmp_path)!r})
def late():
    time.sleep(0.2)
    (out / "thread").write_text("joined")
threading.Thread(target=late).start()
atexit.register(lambda: (out / "handler").write_text("ran"))
class Closed:
    def write(self, text): return len(text)
    def flush(self): raise BrokenPipeError
sys.stdout = Closed()
entry._end(0)
"""
    assert _run(code).returncode == 120
    assert (tmp_path / "thread").read_text() == "joined" and (tmp_path / "handler").read_text() == "ran"


def test_an_analysis_that_spilled_its_table_leaves_no_folder(tmp_path: Path) -> None:
    events = []
    for n in range(12):
        t = n * 1000
        events += [step(n + 1, t, 900), cpu_op("aten::mm", t + 1, 50, external_id=n + 1)]
        events += [runtime("cudaLaunchKernel", t + 2, 5, correlation=n + 1, external_id=n + 1)]
        events.append(kernel("k", t + 10, 20, correlation=n + 1))
    trace = write_trace(tmp_path / "t.json", events)
    spill_root = tmp_path / "tmp"
    spill_root.mkdir()
    code = f"""
import sys
from tracekit.readers import spill
from tracekit.readers.chunked import driver, split
driver.CHUNK_BYTES, split.QUICK_WINDOW = 400, 128  # streamed, so the 1KB budget spills the table
made = spill.spill_folder
spill.spill_folder = lambda: print("spilled", flush=True) or made()
sys.argv = ["tracekit", "analyze", {str(trace)!r}, "--no-json", "--no-html", "--memory-budget", "1KB"]
from tracekit.cli.entry import entry
entry()
"""
    result = _run(code, env={"TMPDIR": str(spill_root), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("spilled") and list(spill_root.iterdir()) == []


def test_numpy_is_imported_with_one_blas_thread_unless_chosen(tmp_path: Path) -> None:
    """OpenBLAS starts (and spins) a thread per core when numpy is imported: the command sets the
    BLAS variables first, keeping the user's own."""
    trace = write_trace(tmp_path / "t.json", [step(1, 0, 100), cpu_op("aten::mm", 1, 10, external_id=1)])
    code = f"""
import os, sys
seen = []
class Finder:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy" and not seen:
            seen.append((os.environ.get("OPENBLAS_NUM_THREADS"), os.environ.get("MKL_NUM_THREADS")))
sys.meta_path.insert(0, Finder())
sys.argv = ["tracekit", "analyze", {str(trace)!r}, "--no-json", "--no-html"]
from tracekit.cli import entry
try:
    entry.main()
finally:
    print(seen)
"""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    default, chosen = _run(code, env=env), _run(code, env={**env, "OPENBLAS_NUM_THREADS": "4"})
    assert default.stdout.strip().splitlines()[-1] == "[('1', '1')]", default.stderr
    assert chosen.stdout.strip().splitlines()[-1] == "[('4', '1')]", chosen.stderr


def test_the_bench_reads_with_the_commands_blas_setting() -> None:
    from bench import bench_kineto
    from tracekit.cli import entry

    assert bench_kineto.BLAS_THREADS == entry.BLAS_THREADS
