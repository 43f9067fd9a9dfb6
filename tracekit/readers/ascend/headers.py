"""The header vocabulary of the Ascend summary CSVs, shared by format detection and the readers.

Light (stdlib only): the sniffers (`sniff`) recognise a CSV by its header on every input, so they
must not import the readers' pyarrow and numpy. Column names differ between CANN and torch_npu
versions, so each column is known by an alias key with its header names.
"""

from __future__ import annotations


def clean(text: object) -> str:
    """A cell without the TABs, spaces and literal double quotes msprof wraps values in."""
    return str(text).strip().strip('"').strip()


ALIASES: dict[str, tuple[str, ...]] = {
    # op_summary_*.csv (msprof) and kernel_details.csv (torch_npu)
    "name": ("Name", "Op Name"),
    "op_type": ("Type", "OP Type"),
    "core_type": ("Accelerator Core", "Task Type"),
    "op_state": ("OP State",),
    "start_us": ("Start Time(us)", "Task Start Time(us)", "Task Start Time"),
    "duration_us": ("Duration(us)", "Task Duration(us)"),
    "wait_us": ("Wait Time(us)", "Task Wait Time(us)"),
    "block_dim": ("Block Dim", "Block Num"),
    "mix_block_dim": ("Mix Block Dim", "Mix Block Num"),
    "input_dtypes": ("Input Data Types",),
    "input_shapes": ("Input Shapes",),
    "step": ("Step Id",),
    "stream": ("Stream ID", "Stream Id", "Physic Stream Id"),
    "task_id": ("Task ID", "Task Id"),
    "device": ("Device_id",),
    # step_trace_time.csv
    "step_name": ("Step",),
    "computing": ("Computing",),
    "communication_not_overlapped": ("Communication(Not Overlapped)",),
    "overlapped": ("Overlapped",),
    "communication": ("Communication",),
    "free": ("Free",),
    "stage": ("Stage",),
    "bubble": ("Bubble",),
    "preparing": ("Preparing",),
    # op_statistic / api_statistic
    "stat_op_type": ("OP Type",),
    "stat_core_type": ("Core Type",),
    "count": ("Count",),
    "total_us": ("Total Time(us)", "Time(us)"),
    "level": ("Level",),
    "api_name": ("API Name",),
}
"""Alias key -> the header names of its column, in the order they are looked for."""

KERNEL_REQUIRED = ("name", "start_us", "duration_us")
STEP_TRACE_REQUIRED = ("step_name", "computing", "communication_not_overlapped", "free")
OP_STATISTIC_REQUIRED = ("stat_op_type", "stat_core_type", "count", "total_us")
API_STATISTIC_REQUIRED = ("level", "api_name", "count", "total_us")


def header_roles(header: list[str]) -> set[str]:
    """The alias keys a header provides."""
    present = {clean(h) for h in header}
    return {key for key, names in ALIASES.items() if any(n in present for n in names)}
