"""Names the command line shows before it loads any implementation: the input formats and their
descriptions, the report languages, the memory-budget variable.

Kept free of imports so that `tracekit --help` stays fast. The readers build their table from
FORMATS; LANGUAGES and MEMORY_BUDGET_ENV are tested to be the report's and the budget's
(tests/unit/test_cli_startup.py).
"""

FORMATS: tuple[tuple[str, str], ...] = (
    ("nsys", "Nsight Systems SQLite export (nsys export --type sqlite)"),
    ("nsys-json", "Nsight Systems JSON export (nsys export --type json)"),
    ("nsys-csv", "nsys stats CSV, cuda_gpu_trace report"),
    ("nsys-rep", "Nsight Systems report (.nsys-rep/.qdrep): export it first"),
    (
        "ascend",
        "Ascend msprof / torch_npu output: a directory, msprof_*.json / trace_view.json, "
        "op_summary / kernel_details CSV, profiler SQLite DB",
    ),
    ("kineto", "PyTorch profiler / Kineto trace (.json, .json.gz)"),
    ("chrome", "generic Chrome trace JSON, e.g. VizTracer (CPU side)"),
)
"""(name, description) of each input format, in the order detection tries them."""
FORMAT_NAMES = tuple(name for name, _ in FORMATS)
LANGUAGES = ("en", "zh")
"""Languages of the HTML report."""
MEMORY_BUDGET_ENV = "TRACEKIT_MEMORY_BUDGET"
"""Environment variable of the --memory-budget option (read by tracekit/readers/spill.py)."""
