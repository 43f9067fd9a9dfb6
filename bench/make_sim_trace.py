"""Emit a large simulated trace (10 million events by default) and report time and peak memory.

The simulator streams: records go to the writer as the model produces them, so memory stays flat
whatever the number of events. The scenario is case 000's baseline (166 events per inference);
the number of inferences is chosen to reach --events.

    python bench/make_sim_trace.py [--events 10000000] [--format kineto|nsys|msprof] [--gz]
                                   [--scenario case000] [--out bench/data/sim.pt.trace.json]

The kineto output can then be benchmarked like the tiled real trace:
    python bench/bench_analyze.py --trace bench/data/sim.pt.trace.json
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from tracekit.simulate.device import Simulation  # noqa: E402
from tracekit.simulate.emit_kineto import write_kineto  # noqa: E402
from tracekit.simulate.emit_msprof import MsprofRun, write_msprof  # noqa: E402
from tracekit.simulate.emit_nsys import write_nsys  # noqa: E402
from tracekit.simulate.scenarios import Scenario, load, with_run  # noqa: E402

PROBE_INFERENCES = 20
TARGET_PEAK_BYTES = 10**9


def events_per_inference(scenario: Scenario) -> float:
    """Records per inference, from a short run of the same scenario."""
    probe = with_run(scenario, inferences=PROBE_INFERENCES)
    simulation = Simulation(probe.workload, probe.host, probe.device, probe.run)
    return sum(1 for _ in simulation.records()) / PROBE_INFERENCES


def emit(scenario: Scenario, fmt: str, out: Path, gz: bool) -> tuple[Path, int]:
    """Write the trace; returns where and how many records the model produced."""
    simulation = Simulation(scenario.workload, scenario.host, scenario.device, scenario.run)
    records, run = simulation.records(), scenario.run
    if fmt == "kineto":
        write_kineto(out, records, scenario.device, run.instances, batch_h2d=run.batch_h2d, gz=gz)
    elif fmt == "nsys":
        write_nsys(out, records, scenario.device, run.instances, batch_h2d=run.batch_h2d)
    else:
        setup = MsprofRun(scenario.device, scenario.workload, run.batch, run.instances, run.seed)
        out = write_msprof(out, records, setup)
    return out, simulation.summary().records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--format", choices=("kineto", "nsys", "msprof"), default="kineto")
    parser.add_argument("--scenario", default="case000")
    parser.add_argument("--gz", action="store_true", help="gzip the kineto output")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "data" / "sim.pt.trace.json")
    args = parser.parse_args()
    base = load(args.scenario)
    inferences = max(1, round(args.events / events_per_inference(base)))
    started = time.perf_counter()
    out, records = emit(with_run(base, inferences=inferences), args.format, args.out, args.gz)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    size = sum(p.stat().st_size for p in ([out] if out.is_file() else out.rglob("*")) if p.is_file())
    result = {
        "scenario": args.scenario, "format": args.format, "inferences": inferences, "events": records,
        "output": str(out), "output_bytes": size, "seconds": round(seconds, 1),
        "events_per_second": round(records / seconds), "peak_rss_bytes": peak,
        "peak_under_1GB": peak < TARGET_PEAK_BYTES, "python": platform.python_version(),
    }  # fmt: skip
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
