"""Rules on host-to-device copies: batch them, pin them, overlap them with compute."""

from __future__ import annotations

from tracekit.formatting import fmt_bytes, fmt_ns, fmt_share
from tracekit.rules.model import (
    FIRED,
    Context,
    Evidence,
    Outcome,
    not_applicable,
    not_fired,
    replay_verdict,
    replayed_gain,
)

BATCHABLE_COPIES_PER_STEP = 2  # two copies or more in a step can become one


def _h2d(ctx: Context) -> dict | None:
    return ctx.device["h2d"] if ctx.device else None


def batch_h2d(ctx: Context) -> Outcome:
    """Several separate H2D copies per step: one copy from one pinned buffer instead (the plan
    decides whether it pays)."""
    h2d = _h2d(ctx)
    if h2d is None or not ctx.steps:
        return not_applicable("needs_steps_and_device")
    if (h2d["per_step"] or 0) < BATCHABLE_COPIES_PER_STEP:
        return not_fired("few_copies", per_step=h2d["per_step"] or 0, minimum=BATCHABLE_COPIES_PER_STEP)
    estimate = ctx.whatif["batch_h2d"]
    cost = ctx.whatif["copy_cost"]

    def fired() -> Outcome:
        return Outcome(
            FIRED,
            params={"per_step": h2d["per_step"], "predicted": fmt_ns(estimate["predicted_step_ns"])},
            evidence=(
                Evidence("ev.copies_per_step", f"{h2d['per_step']:.1f}", "copies.per_step"),
                Evidence("ev.median_copy", fmt_bytes(int(h2d["sizes"]["median"] or 0)), "copies.sizes"),
                Evidence("ev.copy_fixed_cost", fmt_ns(cost["fixed_ns"]), "whatif.copy_cost"),
                Evidence(
                    "ev.targeted_share", fmt_share(estimate["removable_share"]), "whatif.removable_share"
                ),
            ),
            gain=replayed_gain(
                estimate, "method.batch_h2d", "assume.inputs_in_one_buffer", "assume.copy_fit"
            ),
        )

    return replay_verdict(estimate, fired)


def pin_memory(ctx: Context) -> Outcome:
    """Pageable copies that block the host: pinned buffers make them asynchronous."""
    h2d = _h2d(ctx)
    if h2d is None:
        return not_applicable("needs_device")
    if ctx.platform == "ascend":
        return not_applicable("no_pinned_info")
    if not h2d["pageable_count"]:
        return not_fired("no_pageable")
    estimate = ctx.whatif["pin_memory"]
    if not estimate["applicable"]:
        return not_applicable("needs_pinned_rate")

    def fired() -> Outcome:
        return Outcome(
            FIRED,
            params={"count": h2d["pageable_count"], "bytes": fmt_bytes(h2d["pageable_bytes"])},
            evidence=(
                Evidence("ev.pageable_copies", f"{h2d['pageable_count']:,}", "copies.pageable_pinned"),
                Evidence("ev.pageable_bytes", fmt_bytes(h2d["pageable_bytes"]), "copies.pageable_pinned"),
                Evidence(
                    "ev.targeted_share", fmt_share(estimate["removable_share"]), "whatif.removable_share"
                ),
            ),
            gain=replayed_gain(estimate, "method.pin_memory", "assume.pinned_cost"),
        )

    return replay_verdict(estimate, fired)


def overlap_copies(ctx: Context) -> Outcome:
    """Copies serialized with compute: issue them on another stream, ahead of the compute."""
    h2d = _h2d(ctx)
    if h2d is None or not ctx.steps:
        return not_applicable("needs_steps_and_device")
    if not h2d["exposed_share"]:
        return not_fired("copies_hidden", share=0.0, minimum=0.0)
    estimate = ctx.whatif["overlap_copies"]

    def fired() -> Outcome:
        return Outcome(
            FIRED,
            params={"share": fmt_share(h2d["exposed_share"])},
            evidence=(
                Evidence("ev.exposed_share", fmt_share(h2d["exposed_share"]), "copies.exposed_share"),
                Evidence("ev.copy_time", fmt_ns(h2d["busy_ns"]), "copies.busy_ns"),
            ),
            gain=replayed_gain(estimate, "method.overlap_copies", "assume.prefetch"),
        )

    return replay_verdict(estimate, fired)
