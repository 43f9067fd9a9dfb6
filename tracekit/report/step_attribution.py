"""Reading the critical-path attribution of a device block (`whatif.attribution`, docs/metrics.md):
shared by the terminal summary and the HTML report."""

from __future__ import annotations

from tracekit.analysis.document import Document
from tracekit.analysis.document.device import Device
from tracekit.analysis.document.whatif import Attribution, StepTimes


def attributed_device(document: Document, device_id: int | None) -> Device | None:
    """The device with `device_id` (the one the recommendations were computed on), else the busiest
    (most busy time, the first on a tie); None without devices."""
    devices = document.devices
    for device in devices:
        if device_id is not None and device.id == device_id:
            return device
    return max(devices, key=lambda d: d.busy_ns) if devices else None


def attribution_of(device: Device | None) -> Attribution | None:
    """The device's attribution block when it has replayed steps, else None."""
    whatif = device.whatif if device is not None else None
    block = whatif.attribution if whatif is not None else None
    return block if block is not None and block.steps and block.categories else None


def category_ns(step: StepTimes | None, name: str) -> int:
    """The time `step` attributes to the category `name`: 0 without a step, or for a category the
    document lists but this tracekit does not know."""
    return getattr(step, name, 0) if step is not None else 0


def step_total(step: StepTimes | None, categories: list[str]) -> int:
    """A step's time: the sum of its categories (they partition it)."""
    return sum(category_ns(step, name) for name in categories)


def median_step_number(block: Attribution) -> int | None:
    """The number of the replayed step whose attribution is the median one."""
    for step in block.steps:
        if all(category_ns(step, name) == category_ns(block.median_step, name) for name in block.categories):
            return step.step
    return None


def largest_categories(totals: StepTimes | None, categories: list[str], count: int) -> list[tuple[str, int]]:
    """The `count` largest non-empty categories with their time, largest first (document order on a
    tie)."""
    present = [(name, ns) for name in categories if (ns := category_ns(totals, name)) > 0]
    return sorted(present, key=lambda item: -item[1])[:count]
