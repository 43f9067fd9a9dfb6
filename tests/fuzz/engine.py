"""The fuzz loop: mutate a seed, run the CLI in-process, check the contract; per target, for a time budget.

Each target runs in a worker process (spawned, with the address-space limit of contract.py), which calls
the CLI in-process for speed under a per-case alarm. A case that the alarm cannot stop (a long C call) or
that kills the worker is caught by the parent: it kills the worker, keeps the input and starts a new one.
Failures are saved under .fuzz-failures/<target>/ with the command and what went wrong.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import queue
import random
import re
import resource
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import mutate
from contract import (
    CORPUS,
    FAILURES,
    MEMORY_LIMIT,
    Expect,
    argv_for,
    remove,
    run_inprocess,
    snapshot,
    violations,
)

CASE_TIMEOUT_S = 10.0  # the in-process alarm
HARD_TIMEOUT_S = 30.0  # the parent's limit, for what the alarm cannot interrupt
KEEP_PER_SIGNATURE = 3
TRACE_COMMANDS = ("analyze", "analyze", "analyze", "check", "diff")


@dataclass(frozen=True)
class Target:
    """A reader (or a command's own input) to fuzz: its valid seeds, how to mutate them, which commands."""

    name: str
    seeds: tuple[str, ...]  # relative to tests/data/bad
    mutators: tuple[mutate.Mutator, ...]
    commands: tuple[str, ...] = TRACE_COMMANDS


TARGETS = (
    Target(
        "kineto", ("kineto/good.json", "kineto/host_only.json"), (mutate.json_mutator, mutate.byte_mutator)
    ),
    Target("nsys", ("nsys/good.sqlite",), (mutate.sqlite_mutator,)),
    Target("nsys-json", ("nsys_json/good.json",), (mutate.json_lines_mutator, mutate.byte_mutator)),
    Target("nsys-csv", ("nsys_csv/good_cuda_gpu_trace.csv",), (mutate.csv_mutator, mutate.byte_mutator)),
    Target("ascend-json", ("ascend_json/good.trace_view.json",), (mutate.json_mutator, mutate.byte_mutator)),
    Target("ascend-csv", ("ascend_csv/good/kernel_details.csv",), (mutate.csv_mutator, mutate.byte_mutator)),
    Target("ascend-db", ("ascend_db/good.db",), (mutate.sqlite_mutator,)),
    Target("budget", ("budget/good.toml",), (mutate.toml_mutator,), ("budget",)),
    Target(
        "analysis", ("analysis/good.analysis.json",), (mutate.json_mutator, mutate.byte_mutator), ("report",)
    ),
)


@dataclass
class Result:
    """Runs and failures of one target."""

    target: str
    runs: Counter = field(default_factory=Counter)  # per command
    failures: Counter = field(default_factory=Counter)  # per signature
    examples: dict[str, str] = field(default_factory=dict)  # signature -> saved reproducer folder

    def merge(self, message: dict) -> None:
        self.runs[message["command"]] += 1
        for signature in message["signatures"]:
            self.failures[signature] += 1
            if message.get("saved"):
                self.examples.setdefault(signature, message["saved"])


def fuzz(target: Target, seconds: float, seed: int) -> Result:
    """Fuzz `target` for `seconds`, restarting the worker after a hang or a crash."""
    result = Result(target.name)
    deadline = time.monotonic() + seconds
    context = multiprocessing.get_context("spawn")
    round_ = 0
    while time.monotonic() < deadline - 0.5:
        messages = context.Queue()
        worker = context.Process(target=_worker, args=(target, deadline, seed + round_ * 7919, messages))
        worker.start()
        round_ += 1
        _follow(worker, messages, result, target)
    return result


def _follow(worker, messages, result: Result, target: Target) -> None:
    """Collect the worker's results until it ends; kill it when a case hangs, note it when it dies."""
    current: dict | None = None
    started = time.monotonic()
    while True:
        try:
            message = messages.get(timeout=1.0)
        except queue.Empty:
            alive = worker.is_alive()
            if alive and (current is None or time.monotonic() - started < HARD_TIMEOUT_S):
                continue
            worker.kill()
            worker.join()
            if current is not None:
                problem = (
                    f"no exit within {HARD_TIMEOUT_S:.0f} s (hang the alarm could not stop)"
                    if alive
                    else f"worker died (exit code {worker.exitcode})"
                )
                result.merge(_failed_case(current, target, problem))
            return
        if message["kind"] == "start":
            current, started = message, time.monotonic()
        elif message["kind"] == "done":
            result.merge(message)
            current = None
        else:
            worker.join()
            return


def _failed_case(start: dict, target: Target, problem: str) -> dict:
    """The result of a case that the parent had to stop: its input saved like any failure."""
    signature = f"{start['command']}: {problem}"
    saved = _save(target.name, signature, Path(start["input"]), start["argv"], [problem], "")
    remove(Path(start["work"]).parent)
    return {"command": start["command"], "signatures": [signature], "saved": saved}


def _worker(target: Target, deadline: float, seed: int, messages) -> None:
    """Run mutated cases until the deadline, reporting each one's start and result."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    rng = random.Random(seed)
    scratch = Path(tempfile.mkdtemp(prefix=f"tk-fuzz-{target.name}-"))
    try:
        number = 0
        while time.monotonic() < deadline:
            number += 1
            messages.put(_run_one(target, rng, scratch / str(number), messages))
    finally:
        messages.put({"kind": "end"})
        remove(scratch)


def _run_one(target: Target, rng: random.Random, work: Path, messages) -> dict:
    seed = CORPUS / rng.choice(target.seeds)
    command = rng.choice(target.commands)
    inputs, out = work / "in", work / "out"
    inputs.mkdir(parents=True)
    out.mkdir()
    path = inputs / seed.name
    rng.choice(target.mutators)(seed, path, rng)
    argv = argv_for(command, path, out, html=rng.random() < 0.2)
    messages.put({"kind": "start", "command": command, "input": str(path), "argv": argv, "work": str(work)})
    before = snapshot(inputs), snapshot(out)
    outcome = run_inprocess(argv, CASE_TIMEOUT_S)
    after = snapshot(inputs), snapshot(out)
    expect = Expect((0, 2), names=path.name, command=command)
    problems = violations(outcome, expect, work, (before[0], after[0]), (before[1], after[1]))
    signatures = [_signature(command, problems[0], outcome.stderr, work)] if problems else []
    saved = _save(target.name, signatures[0], path, argv, problems, outcome.stderr) if problems else None
    remove(work)
    return {"kind": "done", "command": command, "signatures": signatures, "saved": saved}


def _signature(command: str, problem: str, stderr: str, work: Path) -> str:
    """What groups failures: the problem and the error's type or message, without paths and numbers."""
    line = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    line = line.replace(str(work), "").replace(str(CORPUS), "")
    line = re.sub(r"\d+", "N", re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", line))[:120]
    return f"{command}: {problem} | {line}"


def _save(
    target: str, signature: str, path: Path, argv: list[str], problems: list[str], stderr: str
) -> str | None:
    """Keep the input and its story under .fuzz-failures/<target>/<hash>/ (a few per signature)."""
    folder = FAILURES / target
    key = hashlib.sha1(signature.encode()).hexdigest()[:10]
    if len(list(folder.glob(f"{key}-*"))) >= KEEP_PER_SIGNATURE or not path.exists():
        return None
    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:8] if path.is_file() else "dir"
    case = folder / f"{key}-{digest}"
    case.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, case / path.name)
    command = " ".join(argv).replace(str(path), str(case / path.name))
    command = command.replace(str(path.parent.parent / "out"), "/tmp/tk-out")
    story = {"signature": signature, "argv": argv, "problems": problems, "stderr": stderr[-2000:],
             "reproduce": f"python -m tracekit {command}"}  # fmt: skip
    (case / "case.json").write_text(json.dumps(story, indent=1))
    return str(case)
