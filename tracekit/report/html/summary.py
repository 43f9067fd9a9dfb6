"""The summary section: headline cards of the busiest device and of the steps, and a table of the
devices when there are several. Every card names its formula and window."""

from __future__ import annotations

from tracekit.analysis.document import Document
from tracekit.analysis.document.device import Device
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.report.html.cells import count_cell, ns_cell, share_cell
from tracekit.report.html.context import Context
from tracekit.report.html.first import no_steps_hint
from tracekit.report.html.markup import Cell, Column, element, paragraph, table, text


def busiest_device(document: Document) -> Device | None:
    """The device with the most busy time (the first on a tie), or None without devices."""
    devices = document.devices
    return max(devices, key=lambda d: d.busy_ns) if devices else None


def summary_section(ctx: Context, device: Device | None) -> str:
    """Headline cards for the busiest device and the steps; a device table when there are several."""
    devices = ctx.document.devices
    cards = (_device_cards(ctx, device) if device else []) + _step_cards(ctx)
    heading = ""
    if device is not None:
        key = "card.device_busiest" if len(devices) > 1 else "card.device"
        heading = element("h3", text(ctx.t(key, device=device.id, count=len(devices))))
    else:
        heading = paragraph(ctx.t("report.no_devices"), "warning")
    overview = _devices_table(ctx, devices) if len(devices) > 1 else ""
    return heading + element("div", "".join(cards), class_="cards") + no_steps_hint(ctx) + overview


def _card(label: str, value: str, formula: str, hint: str) -> str:
    return element(
        "div",
        element("div", text(label), class_="card-label")
        + element("div", text(value), class_="card-value")
        + element("div", text(formula), class_="card-formula"),
        class_="card",
        title=hint,
    )


def _device_cards(ctx: Context, device: Device) -> list[str]:
    window, bubbles = ctx.device_window(device), device.bubbles
    bubble_value = ctx.t("card.bubbles_value", count=f"{bubbles.count:,}", total=fmt_ns(bubbles.total_ns))
    cards = [
        ("card.utilization", fmt_share(device.utilization), "utilization"),
        ("card.kernel_utilization", fmt_share(device.kernel_utilization), "kernel_utilization"),
        ("card.h2d_exposed", fmt_share(device.h2d.exposed_share), "copies.exposed_share"),
        ("card.bubbles", bubble_value, "bubbles"),
    ]
    return [
        _card(ctx.t(label), value, ctx.formula(key), ctx.hint(key, window)) for label, value, key in cards
    ]


def _step_cards(ctx: Context) -> list[str]:
    steps = ctx.document.steps
    if not steps.count:
        return []
    window, durations, throughput = ctx.steps_window(), steps.duration_ns, steps.throughput_per_s
    cards = [
        ("card.step_p50", fmt_ns(durations.p50), "steps.duration_ns"),
        ("card.step_p99", fmt_ns(durations.p99), "steps.duration_ns"),
    ]
    if throughput is not None:
        cards.append(("card.throughput", f"{throughput:,.1f}", "steps.throughput_per_s"))
    return [
        _card(ctx.t(label), value, ctx.formula(key), ctx.hint(key, window)) for label, value, key in cards
    ]


def _devices_table(ctx: Context, devices: list[Device]) -> str:
    t = ctx.t
    columns = [
        Column(t("col.device")),
        Column(t("col.operations"), ctx.formula("operations"), numeric=True),
        Column(t("col.busy"), ctx.formula("busy_ns"), numeric=True),
        Column(t("col.utilization"), ctx.formula("utilization"), numeric=True),
        Column(t("col.kernel_utilization"), ctx.formula("kernel_utilization"), numeric=True),
        Column(t("col.bubbles"), ctx.formula("bubbles"), numeric=True),
    ]
    rows = [
        [
            Cell(str(d.id), d.id),
            count_cell(d.operations),
            ns_cell(d.busy_ns, ctx.hint("busy_ns", ctx.device_window(d))),
            share_cell(d.utilization, ctx.hint("utilization", ctx.device_window(d))),
            share_cell(d.kernel_utilization, ctx.hint("kernel_utilization", ctx.device_window(d))),
            count_cell(d.bubbles.count, ctx.hint("bubbles", ctx.device_window(d))),
        ]
        for d in devices
    ]
    return element("h3", text(t("sec.devices"))) + table(columns, rows, sortable=True)
