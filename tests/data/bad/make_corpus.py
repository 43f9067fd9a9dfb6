"""Write the checked-in bad-input corpus: `python tests/data/bad/make_corpus.py` (deterministic).

The builders live in tests/fuzz/gen_*.py; cases.toml beside this file gives each case's expected outcome.
The analysis/ cases are derived from `tracekit analyze` of kineto/good.json, so they change with the analysis.
Cases that are large or cannot be stored in git are built by the test at run time (gen_misc.RUNTIME).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent.parent
sys.path[:0] = [str(TESTS), str(TESTS / "fuzz")]

import gen_ascend  # noqa: E402
import gen_gpu  # noqa: E402
import gen_misc  # noqa: E402

FOLDERS = ("kineto", "nsys", "nsys_json", "nsys_csv", "ascend_json", "ascend_csv", "ascend_db",
           "ascend_dir", "budget", "analysis")  # fmt: skip


def builders() -> dict[str, gen_gpu.Builder]:
    """Relative path -> builder, for every checked-in case."""
    groups = {
        "kineto": gen_gpu.kineto_files(),
        "nsys": gen_gpu.nsys_files(),
        "nsys_json": gen_gpu.nsys_json_files(),
        "nsys_csv": gen_gpu.nsys_csv_files(),
        "ascend_json": gen_ascend.timeline_files(),
        "ascend_csv": gen_ascend.csv_files(),
        "ascend_db": gen_ascend.db_files(),
        "ascend_dir": gen_ascend.folder_files(),
        "budget": gen_misc.budget_files(),
    }
    return {f"{group}/{name}": build for group, files in groups.items() for name, build in files.items()}


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":  # nsys_builder creates tables in set order
        os.execve(sys.executable, [sys.executable, *sys.argv], os.environ | {"PYTHONHASHSEED": "0"})
    for folder in FOLDERS:
        shutil.rmtree(HERE / folder, ignore_errors=True)
    for relative, build in builders().items():
        path = HERE / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        build(path)
    analysis = gen_misc.analysis_files(HERE / "kineto" / "good.json")
    for name, build in analysis.items():
        (HERE / "analysis").mkdir(exist_ok=True)
        build(HERE / "analysis" / name)
    print(f"wrote {len(builders()) + len(analysis)} cases under {HERE}")


if __name__ == "__main__":
    main()
