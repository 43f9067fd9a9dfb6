"""Budgets: how far each metric may move (relative to the baseline) or where it must stay (absolute).

A budget file is TOML; every key is a metric path and every value a string (docs/ci.md):

    step.p50 = "+5%"                  # may grow by 5 % of the baseline
    h2d.share_of_busy = "+2pp"        # may grow by 2 percentage points (fractions only)
    device.busy_per_step_ns = "+20us" # may grow by 20 µs (durations: ns, us, ms, s)
    utilization = "-5pp"              # may drop by 5 points: the sign says which way is worse
    h2d.per_step = "<= 2"             # absolute: must stay at or below 2, no baseline needed
    'op["*gemm*"].total_per_step_ns' = "+10%"

Dotted keys are TOML tables, so `[step]` then `p50 = "+5%"` means the same as `step.p50 = "+5%"`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tracekit.compare.metrics import lookup
from tracekit.errors import TraceError

MAX_BUDGET_BYTES = 1 << 20
MAX_KEY_PARTS = 16
"""Metric paths have two to four parts (docs/ci.md); deeper keys are refused unparsed."""
DEFAULT_BUDGET = {
    "step.p50": "+10%",
    "utilization": "-5pp",
    "device.busy_per_step_ns": "+10%",
    "kernel.total_per_step_ns": "+10%",
    "kernel.count_per_step": "+25%",
    "host.launch_calls_per_step": "+25%",
    "host.graph_launches_per_step": "-25%",
    "host.sync_calls_per_step": "+25%",
    "host.cpu_ops_per_step": "+25%",
    "host.cpu_per_step_ns": "+25%",
    "h2d.exposed_per_step_ns": "+25%",
    "h2d.per_step": "+10%",
    "h2d.bytes_per_step": "+10%",
    "h2d.share_of_busy": "+2pp",
    "d2h.per_step": "+10%",
    "bubbles.count": "+25%",
}
DEFAULT_PRIOR = 0.75
"""Run-to-run spread assumed for wall-clock metrics when the baseline runs cannot show it (one
run): a fraction of the baseline value. Two runs of the same code differ by up to x1.73 in median
profiled step (tests/data/gpu/corpus.toml, conv_fp32_tf32 and its run2: cudnn.benchmark picked other
algorithms; chain80_eager: x1.45) while their device busy time moved by at most 8 %."""
PRIOR_KEY = "noise.prior"
NUMBER = r"(\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
RELATIVE = re.compile(rf"^\s*([+-])\s*(?P<amount>{NUMBER})\s*(?P<unit>%|pp|ns|us|µs|ms|s)?\s*$")
ABSOLUTE = re.compile(rf"^\s*(?P<op><=|>=)\s*(?P<amount>{NUMBER})\s*(?P<unit>%|ns|us|µs|ms|s)?\s*$")
NS_PER_UNIT = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


@dataclass(frozen=True)
class Budget:
    """One budget line. Relative: the metric may move by `amount` (in `unit`) in the `worse`
    direction from the baseline. Absolute: the metric must not pass `amount` in that direction."""

    path: str
    text: str  # as written, e.g. "+5%"
    relative: bool
    worse: int  # +1: increases (or values above the limit) fail; -1: decreases (values below) fail
    amount: float  # in the metric's unit, except for unit "%" (percent of the baseline)
    unit: str  # "%" or "" (already converted to the metric's unit)

    def limit(self, base: float | None) -> float:
        """The worst value allowed: baseline +/- allowance (relative) or the limit (absolute)."""
        if not self.relative:
            return self.amount
        allowance = self.amount / 100 * abs(base) if self.unit == "%" else self.amount
        return base + self.worse * allowance


def default_budgets() -> list[Budget]:
    """The budget used when none is given: relative to the baseline, loose enough for run-to-run noise."""
    return [parse_budget(path, text) for path, text in DEFAULT_BUDGET.items()]


def load_budgets(path: Path) -> list[Budget]:
    """Read a TOML budget file; any problem is a TraceError naming the file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise TraceError(path, f"cannot read budget file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise TraceError(path, "not valid TOML: not UTF-8 text") from None
    _check_shallow(path, text)
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TraceError(path, f"not valid TOML: {exc}") from None
    except RecursionError:  # nesting spread over several lines
        raise TraceError(path, "not a budget: keys or values nested too deeply") from None
    except ValueError:  # an integer of thousands of digits
        raise TraceError(path, "not a budget: a number with too many digits") from None
    entries = _flatten(table)
    entries.pop(PRIOR_KEY, None)
    if not entries:
        raise TraceError(path, "budget file names no metric")
    try:
        return [parse_budget(key, value) for key, value in entries.items()]
    except ValueError as exc:
        raise TraceError(path, str(exc)) from None


def load_prior(path: Path | None) -> float:
    """`noise.prior = "75%"` of a budget file (the run-to-run spread assumed with one baseline run),
    else DEFAULT_PRIOR."""
    if path is None:
        return DEFAULT_PRIOR
    value = _flatten(tomllib.loads(path.read_text(encoding="utf-8-sig"))).get(PRIOR_KEY)
    if value is None:
        return DEFAULT_PRIOR
    match = re.fullmatch(rf"\s*(?P<amount>{NUMBER})\s*%\s*", value) if isinstance(value, str) else None
    if match is None:
        raise TraceError(path, f'{PRIOR_KEY} = {str(value)[:30]!r}: write it as a percentage, e.g. "75%"')
    return float(match["amount"]) / 100


def parse_budget(path: str, value: object) -> Budget:
    """One `path = "value"` line; ValueError saying what is wrong."""
    metric = lookup(path)
    if not isinstance(value, str):
        raise ValueError(f'{path} = {value!r}: write the budget as a string, e.g. "+5%" or "<= 2"')
    relative, absolute = RELATIVE.match(value), ABSOLUTE.match(value)
    match = relative or absolute
    if match is None:
        raise ValueError(f'{path} = "{value}": not a budget (use e.g. "+5%", "+2pp", "+20us", "<= 2")')
    unit = match["unit"] or ""
    try:
        amount = _in_metric_unit(float(match["amount"]), unit, metric.unit, relative is not None)
    except ValueError as exc:
        raise ValueError(f'{path} = "{value}": {exc}') from None
    if relative:
        worse = +1 if value.strip().startswith("+") else -1
        return Budget(path, value, True, worse, amount, "%" if unit == "%" else "")
    worse = +1 if match["op"] == "<=" else -1
    return Budget(path, value, False, worse, amount, "")


def _in_metric_unit(amount: float, unit: str, metric_unit: str, relative: bool) -> float:
    """The amount converted to the metric's unit ("%" of a relative budget stays a percentage)."""
    if unit in NS_PER_UNIT:
        if metric_unit != "ns":
            raise ValueError(f"a duration unit on a metric counted in {metric_unit}")
        return amount * NS_PER_UNIT[unit]
    if unit == "pp" or (unit == "%" and not relative):
        if metric_unit != "fraction":
            raise ValueError(f"{unit} needs a fraction metric, not one counted in {metric_unit}")
        return amount / 100
    return amount


def _check_shallow(path: Path, text: str) -> None:
    """Refuse, before parsing, what no budget needs and what costs tomllib quadratic time or its
    recursion: files over MAX_BUDGET_BYTES, keys of more than MAX_KEY_PARTS parts, deep nesting."""
    if len(text) > MAX_BUDGET_BYTES:
        raise TraceError(path, f"budget file over {MAX_BUDGET_BYTES >> 10} KiB; a budget names a few metrics")
    for line in text.splitlines():
        key = line.split("=", 1)[0]
        if key.count(".") >= MAX_KEY_PARTS or line.count("[") + line.count("{") > MAX_KEY_PARTS:
            raise TraceError(path, "not a budget: keys or values nested too deeply")


def _flatten(table: dict, prefix: str = "") -> dict[str, object]:
    """{"step": {"p50": "+5%"}} -> {"step.p50": "+5%"}."""
    flat: dict[str, object] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat
