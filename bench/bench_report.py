"""Report size and render times for a trace: analyze (JSON), render the HTML from the JSON, and
draw it in headless Chromium (time until every chart has drawn).

    python bench/bench_report.py TRACE [TRACE ...]

A 1-million-event trace:
    python bench/make_sim_trace.py --events 1000000 --gz --out bench/data/sim1m.pt.trace.json.gz
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
DRAWN = "() => [...document.querySelectorAll('.js-plotly-plot')].every(d => d.querySelector('svg.main-svg'))"


def timed(command: list[str]) -> float:
    """Wall seconds of a command that must succeed."""
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def browser_seconds(html: Path) -> float | None:
    """Seconds from navigation to every chart drawn, in headless Chromium (None without it)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not CHROMIUM.exists():
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(html.as_uri())
        page.wait_for_function(DRAWN, timeout=120_000)
        seconds = time.perf_counter() - start
        browser.close()
    return seconds


def bench(trace: Path, out: Path) -> dict[str, object]:
    """Sizes and times for one trace."""
    analysis, html = out / "a.json", out / "a.html"
    tracekit = [sys.executable, "-m", "tracekit"]
    analyze_s = timed([*tracekit, "analyze", str(trace), "--json", str(analysis), "--no-html"])
    render_s = timed([*tracekit, "report", str(analysis), "--html", str(html)])
    document = json.loads(analysis.read_text())
    return {
        "trace": trace.name,
        "trace_bytes": trace.stat().st_size,
        "events": document["trace"]["events"],
        "analyze_s": round(analyze_s, 2),
        "report_render_s": round(render_s, 2),
        "html_bytes": html.stat().st_size,
        "timeline_events_shown": (document.get("timeline") or {}).get("shown_events"),
        "chromium_draw_s": round(browser_seconds(html) or float("nan"), 2),
    }


def main(paths: list[str]) -> None:
    print(f"# {platform.node()} {platform.machine()} python {platform.python_version()}")
    for path in paths:
        with tempfile.TemporaryDirectory() as out:
            print(json.dumps(bench(Path(path), Path(out))))


if __name__ == "__main__":
    main(sys.argv[1:])
