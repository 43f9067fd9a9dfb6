"""The process entry point of the `tracekit` command (and of `python -m tracekit`).

`main()` does the work; the process then ends without the interpreter's teardown of every module and
object it loaded (pandas, pyarrow, numpy, plotly, rich, ...), which takes 0.10 to 0.15 s after an
analysis, longer than writing its reports. What that teardown would do that matters is done first:
other threads are joined, the exit handlers run (the spill folders' removal among them), the output
is flushed.

Before anything imports numpy, its BLAS is kept to one thread (unless the user chose): OpenBLAS
starts a thread per core when numpy is imported, and they spin before they sleep, in every process
(0.1 s of CPU and 40 ms of a 2-core machine's start; 2 s of CPU in a 90 MB trace's read on 16
cores), for a tool whose only linear algebra is a least-squares fit of a few points.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
for _variable in BLAS_THREADS:
    os.environ.setdefault(_variable, "1")

from tracekit.cli.main import main  # noqa: E402  (numpy is imported after the BLAS setting)

FLUSH_FAILED = 120
"""The status the interpreter exits with when it cannot flush standard output (a closed pipe)."""


def entry() -> NoReturn:
    """Run the command line; end the process with its exit status."""
    try:
        main()
        status = 0
    except SystemExit as exc:
        status = _status(exc.code)
    _end(status)


def _status(code: object) -> int:
    """The exit status `sys.exit(code)` gives: None is 0, an int itself, anything else printed and 1."""
    if code is None or isinstance(code, int):
        return code or 0
    sys.stderr.write(f"{code}\n")
    return 1


def _end(status: int) -> NoReturn:
    """End the process now, as the interpreter would once its teardown were done."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # the handlers the interpreter would run (no public call runs them)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        status = status or FLUSH_FAILED
    os._exit(status)
