"""Reading the critical-path attribution of a device block (`whatif.attribution`, docs/metrics.md):
shared by the terminal summary and the HTML report."""

from __future__ import annotations


def attributed_device(document: dict, device_id: object) -> dict | None:
    """The device with `device_id` (the one the recommendations were computed on), else the busiest
    (most busy time, the first on a tie); None without devices."""
    devices = document.get("devices") or []
    for device in devices:
        if device_id is not None and device.get("id") == device_id:
            return device
    return max(devices, key=lambda d: d.get("busy_ns") or 0) if devices else None


def attribution_of(device: dict | None) -> dict | None:
    """The device's attribution block when it has replayed steps, else None."""
    block = ((device or {}).get("whatif") or {}).get("attribution")
    return block if block and block.get("steps") and block.get("categories") else None


def step_total(step: dict, categories: list[str]) -> int:
    """A step's time: the sum of its categories (they partition it)."""
    return sum(step.get(name) or 0 for name in categories)


def median_step_number(block: dict) -> int | None:
    """The number of the replayed step whose attribution is the median one."""
    median = block.get("median_step") or {}
    for step in block["steps"]:
        if all((step.get(name) or 0) == (median.get(name) or 0) for name in block["categories"]):
            return step.get("step")
    return None


def largest_categories(totals: dict, categories: list[str], count: int) -> list[tuple[str, int]]:
    """The `count` largest non-empty categories with their time, largest first (document order on a
    tie)."""
    present = [(name, totals.get(name) or 0) for name in categories if (totals.get(name) or 0) > 0]
    return sorted(present, key=lambda item: -item[1])[:count]
