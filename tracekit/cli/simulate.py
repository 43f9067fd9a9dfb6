"""`tracekit simulate`: run a scenario on the simulated device and write its trace."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from tracekit.simulate.device import Simulation
    from tracekit.simulate.ranks import RankScenario
    from tracekit.simulate.scenarios import Scenario


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
            help="kineto: a .json or .json.gz file; nsys: a .sqlite file; msprof: a folder for PROF_*. "
            "A multi-rank scenario: a folder for one trace per rank.",
        ),
    ] = None,
    inferences: Annotated[int | None, typer.Option("--inferences", min=1, help="Inferences in all.")] = None,
    batch: Annotated[int | None, typer.Option("--batch", min=1, help="Batch size.")] = None,
    instances: Annotated[int | None, typer.Option("--instances", min=1, help="Parallel instances.")] = None,
    aicore: Annotated[
        str | None,
        typer.Option(
            "--aicore",
            help="Cores per operator, CUBE|VECTOR (ge.aicoreNum), e.g. '16|16' (quoted: | is a shell pipe).",
        ),
    ] = None,
    batch_h2d: Annotated[
        bool | None,
        typer.Option("--batch-h2d/--separate-h2d", help="One copy per input group, or per input."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the run-to-run noise.")] = None,
    list_scenarios: Annotated[bool, typer.Option("--list", help="List the scenarios and exit.")] = False,
) -> None:
    """Simulate inference on a modelled device and write the trace in any format tracekit reads."""
    from tracekit.simulate.device import Simulation
    from tracekit.simulate.ranks import load_ranks, rank_scenario_names
    from tracekit.simulate.scenarios import describe_all

    if list_scenarios:
        for name, description in describe_all():
            typer.echo(f"{name:34} {description}")
        for name in rank_scenario_names():
            typer.echo(f"{name:34} {load_ranks(name).description}")
        return
    if scenario is None or output is None:
        raise typer.BadParameter("give a SCENARIO and -o PATH (or --list)")
    if scenario in rank_scenario_names():
        _simulate_ranks(load_ranks(scenario), format_name, output)
        return
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
    from tracekit.simulate.scenarios import load, parse_aicore, with_run

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
    from tracekit.simulate.emit_kineto import write_kineto
    from tracekit.simulate.emit_msprof import MsprofRun, write_msprof
    from tracekit.simulate.emit_nsys import write_nsys

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


def _simulate_ranks(scenario: RankScenario, format_name: Format, output: Path) -> None:
    """Write one trace per rank into the `output` folder; print what each rank's trace holds."""
    from tracekit.simulate.ranks import simulate_ranks, truth

    records = simulate_ranks(scenario)
    for rank, rank_records in enumerate(records):
        written = _write_rank(format_name, output, rank, rank_records, scenario)
        typer.echo(f"{scenario.name}: rank {rank} of {scenario.ranks} -> {written}")
    for rank, known in enumerate(truth(records)):
        shown = ", ".join(_shown(key, value) for key, value in known.items())
        typer.echo(f"truth rank {rank}: {shown}")


def _shown(key: str, value: int) -> str:
    """`compute 12,800.000 us` for a time in ns, `collectives 32` for a count."""
    if key.endswith("_ns"):
        return f"{key.removesuffix('_ns')} {value / 1000:,.3f} us"
    return f"{key} {value:,}"


def _write_rank(format_name: Format, output: Path, rank: int, records: list, scenario: RankScenario) -> Path:
    from tracekit.simulate.emit_kineto import write_kineto
    from tracekit.simulate.emit_msprof import MsprofRun, write_msprof
    from tracekit.simulate.emit_nsys import write_nsys
    from tracekit.simulate.ranks import rank_file

    device, world = scenario.device, scenario.ranks
    if format_name is Format.kineto:
        path = rank_file(output, rank, ".pt.trace.json")
        distributed = {"backend": "nccl", "rank": rank, "world_size": world}
        write_kineto(path, records, device, 1, batch_h2d=False, gz=False, distributed=distributed)
        return path
    if format_name is Format.nsys:
        path = rank_file(output, rank, ".sqlite")
        write_nsys(path, records, device, 1, batch_h2d=False)
        return path
    return write_msprof(output, records, MsprofRun(device, scenario.workload(), 1, 1, 0, rank=rank))
