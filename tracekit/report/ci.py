"""CI outputs of `tracekit check`: JUnit XML, a Markdown table and SARIF 2.1.0, from the
`tracekit.check/1` document; and the one-line message each verdict is reported with."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from tracekit import __version__
from tracekit.formatting import fmt_bytes, fmt_ns

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
STATUS_MARK = {"pass": "pass", "regression": "**REGRESSION**", "inconclusive": "inconclusive"}


def format_value(value: float | None, unit: str) -> str:
    """A metric value in its unit: durations with a time unit, fractions as percentages."""
    if value is None:
        return "-"
    if unit == "ns":
        return fmt_ns(value)
    if unit == "fraction":
        return f"{100 * value:.2f} %"
    if unit == "bytes":
        return fmt_bytes(int(value))
    return f"{value:.4g}"


def format_change(verdict: dict) -> str:
    """The change against the baseline: `+6.2 % (+63 us)`, or `+2.1 pp` for fractions."""
    change, unit = verdict["change"], verdict["unit"]
    if change is None:
        return "-"
    if unit == "fraction":
        return f"{100 * change:+.2f} pp"
    relative = verdict["relative_change"]
    shown = format_value(abs(change), unit)
    signed = f"{'-' if change < 0 else '+'}{shown}"
    return signed if relative is None else f"{100 * relative:+.1f} % ({signed})"


def verdict_message(verdict: dict) -> str:
    """Everything the verdict rests on, in one line: values, budget, noise, test and interval."""
    unit = verdict["unit"]
    parts = [f"{verdict['path']}: {verdict['status']}, {verdict['reason']}"]
    parts.append(f"new {format_value(verdict['new'], unit)}")
    if verdict["kind"] == "relative":
        runs = _plural(verdict["baseline_runs"], "run")
        parts.append(f"baseline {format_value(verdict['base'], unit)} (mean of {runs})")
        parts.append(f"change {format_change(verdict)}")
    parts.append(f"budget {verdict['budget']} (limit {format_value(verdict['limit'], unit)})")
    if verdict["noise_margin"] is not None:
        parts.append(f"noise margin {format_value(verdict['noise_margin'], unit)}")
    if verdict["test"]:
        parts.append(_test_text(verdict["test"], unit))
    return "; ".join(parts)


def junit_xml(document: dict) -> str:
    """One test case per budget; regressions are failures, inconclusive verdicts are skipped."""
    verdicts = document["verdicts"]
    suite = ET.Element("testsuite", {
        "name": "tracekit check",
        "tests": str(len(verdicts)),
        "failures": str(document["counts"]["regression"]),
        "skipped": str(document["counts"]["inconclusive"]),
        "errors": "0",
    })  # fmt: skip
    for verdict in verdicts:
        case = ET.SubElement(suite, "testcase", {"classname": "tracekit.check", "name": verdict["path"]})
        message = verdict_message(verdict)
        if verdict["status"] == "regression":
            ET.SubElement(case, "failure", {"message": message, "type": "regression"}).text = message
        elif verdict["status"] == "inconclusive":
            ET.SubElement(case, "skipped", {"message": message})
        ET.SubElement(case, "system-out").text = message
    root = ET.Element("testsuites", {"name": "tracekit"})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def markdown(document: dict) -> str:
    """A short table for a pull-request comment or a job summary."""
    runs = _plural(len(document["baselines"]), "baseline run")
    lines = [
        f"### tracekit check: {document['status']}",
        "",
        f"`{document['new']['source']}` against {runs}, budget: {document['budget']['source']}",
        "",
        "| metric | status | new | baseline | change | budget | shift [95 % interval] |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in document["verdicts"]:
        unit = v["unit"]
        cells = [f"`{v['path']}`", STATUS_MARK[v["status"]], format_value(v["new"], unit),
                 format_value(v["base"], unit), format_change(v), f"`{v['budget']}`",
                 _shift_text(v["test"], unit)]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Noise model: {document['noise']['test']}, one-sided alpha {document['noise']['alpha']}; "
              "wall-clock metrics fail only beyond the run-to-run noise margin (docs/ci.md)."]  # fmt: skip
    return "\n".join(lines) + "\n"


def sarif(document: dict) -> str:
    """SARIF 2.1.0: each regression an error and each inconclusive verdict a warning, ruleId = path."""
    flagged = [v for v in document["verdicts"] if v["status"] != "pass"]
    rules = {v["path"]: {"id": v["path"], "shortDescription": {"text": f"budget on {v['path']}"}}
             for v in flagged}  # fmt: skip
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tracekit", "version": __version__, "rules": list(rules.values())}},
            "results": [_sarif_result(v, document["new"]["source"]) for v in flagged],
        }],
    }  # fmt: skip
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _sarif_result(verdict: dict, source: str) -> dict:
    return {
        "ruleId": verdict["path"],
        "level": "error" if verdict["status"] == "regression" else "warning",
        "message": {"text": verdict_message(verdict)},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": source}}}],
        "properties": {key: verdict[key] for key in ("status", "new", "base", "limit", "change")},
    }


def _test_text(test: dict, unit: str) -> str:
    return (f"{test['test']} ({test['method']}) U = {test['u']:g}, p = {test['p']:.3g}, "
            f"n = {test['n_new']} new vs {test['n_base']} baseline steps, "
            f"Hodges-Lehmann shift {_shift_text(test, unit)}")  # fmt: skip


def _shift_text(test: dict | None, unit: str) -> str:
    if test is None:
        return "-"
    low, high = test["interval"]
    shift = _signed(test["shift"], unit)
    if low is None:
        return f"{shift} [too few steps for a {test['confidence']:.0%} interval]"
    return f"{shift} [{_signed(low, unit)}, {_signed(high, unit)}]"


def _signed(value: float, unit: str) -> str:
    if unit == "fraction":
        return f"{100 * value:+.2f} pp"
    return f"{'-' if value < 0 else '+'}{format_value(abs(value), unit)}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"
