"""`tracekit simulate`: run a scenario on the simulated device and write its trace."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tracekit.simulate.device import Simulation
from tracekit.simulate.emit_kineto import write_kineto
from tracekit.simulate.emit_msprof import MsprofRun, write_msprof
from tracekit.simulate.emit_nsys import write_nsys
from tracekit.simulate.scenarios import Scenario, describe_all, load, parse_aicore, with_run


class Format(StrEnum):
    """Output formats of the simulator."""

    kineto = "kineto"
    msprof = "msprof"
    nsys = "nsys"


def simulate(
    scenario: Annotated[str | None, typer.Argument(help="Scenario name (see --list).")] = None,
    format_name: Annotated[Format, typer.Option("--format", help="Trace format to write.")] = Format.kineto,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="kineto: a .json or .json.gz file; nsys: a .sqlite file; msprof: a folder for PROF_*.",
        ),
    ] = None,
    inferences: Annotated[int | None, typer.Option("--inferences", min=1, help="Inferences in all.")] = None,
    batch: Annotated[int | None, typer.Option("--batch", min=1, help="Batch size.")] = None,
    instances: Annotated[int | None, typer.Option("--instances", min=1, help="Parallel instances.")] = None,
    aicore: Annotated[
        str | None,
        typer.Option("--aicore", help="Cores per operator, CUBE|VECTOR (ge.aicoreNum), e.g. 16|16."),
    ] = None,
    batch_h2d: Annotated[
        bool | None,
        typer.Option("--batch-h2d/--separate-h2d", help="One copy per input group, or per input."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the run-to-run noise.")] = None,
    list_scenarios: Annotated[bool, typer.Option("--list", help="List the scenarios and exit.")] = False,
) -> None:
    """Simulate inference on a modelled device and write the trace in any format tracekit reads."""
    if list_scenarios:
        for name, description in describe_all():
            typer.echo(f"{name:34} {description}")
        return
    if scenario is None or output is None:
        raise typer.BadParameter("give a SCENARIO and -o PATH (or --list)")
    chosen = _scenario(scenario, inferences, batch, instances, aicore, batch_h2d, seed)
    simulation = Simulation(chosen.workload, chosen.host, chosen.device, chosen.run)
    written = _write(format_name, output, simulation, chosen)
    summary = simulation.summary()
    typer.echo(
        f"{chosen.name}: {summary.inferences:,} inferences of batch {chosen.run.batch} on "
        f"{chosen.run.instances} instance(s): {summary.throughput:,.0f} samples/s, "
        f"mean latency {summary.mean_latency_ns / 1e6:.3f} ms, {summary.records:,} events -> {written}"
    )


def _scenario(
    name: str,
    inferences: int | None,
    batch: int | None,
    instances: int | None,
    aicore: str | None,
    batch_h2d: bool | None,
    seed: int | None,
) -> Scenario:
    try:
        chosen = load(name)
        cores = parse_aicore(aicore) if aicore else None
    except (KeyError, ValueError) as exc:
        raise typer.BadParameter(str(exc.args[0])) from None
    return with_run(
        chosen,
        inferences=inferences,
        batch=batch,
        instances=instances,
        aicore=cores,
        batch_h2d=batch_h2d,
        seed=seed,
    )


def _write(format_name: Format, output: Path, simulation: Simulation, chosen: Scenario) -> Path:
    records, run = simulation.records(), chosen.run
    if format_name is Format.kineto:
        gz = output.suffix == ".gz"
        write_kineto(output, records, chosen.device, run.instances, batch_h2d=run.batch_h2d, gz=gz)
        return output
    if format_name is Format.nsys:
        write_nsys(output, records, chosen.device, run.instances, batch_h2d=run.batch_h2d)
        return output
    return write_msprof(
        output, records, MsprofRun(chosen.device, chosen.workload, run.batch, run.instances, run.seed)
    )
