"""Every case of the bad-input corpus (tests/data/bad/cases.toml) through the real CLI, in a subprocess
with a time and an address-space limit, against the contract of contract.py."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import tomllib
from pathlib import Path

import pytest
from contract import (
    CORPUS,
    FAILURES,
    Expect,
    argv_for,
    prepare_outputs,
    remove,
    run_subprocess,
    snapshot,
    violations,
    written_text,
)
from gen_misc import RUNTIME, build_runtime

MANIFEST = CORPUS / "cases.toml"
RESULTS = Path(os.environ.get("TRACEKIT_CORPUS_RESULTS", FAILURES / "corpus.jsonl"))  # failures, one per line


def load_cases() -> list[tuple[str, str, dict, str]]:
    """(id, group, case, command) for every case and each of its commands."""
    manifest = tomllib.loads(MANIFEST.read_text())
    cases = []
    for group, table in manifest.items():
        for case in table["cases"]:
            for command in case.get("commands", [table["command"]]):
                suffix = f"[{case['outputs']}]" if "outputs" in case else ""
                cases.append((f"{group}/{case['input']}{suffix}:{command}", group, case, command))
    return cases


CASES = load_cases()


def test_manifest_covers_the_corpus() -> None:
    """Every checked-in corpus file has an expected outcome, and every run-time case is listed."""
    listed = {
        f"{group}/{case['input']}" for _, group, case, _ in CASES if group not in ("runtime", "outputs")
    }
    assert stored_inputs() - listed == set()
    assert {case["input"] for _, group, case, _ in CASES if group == "runtime"} == set(RUNTIME)


def stored_inputs() -> set[str]:
    """The checked-in inputs: group/file, group/folder, ascend_csv/case/file."""
    found: set[str] = set()
    for folder in (p for p in CORPUS.iterdir() if p.is_dir()):
        depth = "*/*" if folder.name == "ascend_csv" else "*"
        found |= {str(p.relative_to(CORPUS)) for p in folder.glob(depth)}
    return found


@pytest.fixture(scope="module", autouse=True)
def _fresh_results() -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("")


@pytest.mark.parametrize(("group", "case", "command"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_case(group: str, case: dict, command: str) -> None:
    user = case.get("user")
    if user and os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("needs setpriv to run as a non-root user")
    work = Path(tempfile.mkdtemp(prefix="tk-bad-", dir="/tmp"))
    try:
        problems, outcome, argv = _run_case(work, group, case, command)
    finally:
        remove(work)
    if problems:
        _record(group, case, command, argv, outcome, problems)
    assert not problems, f"{' '.join(argv)}\n" + "\n".join(problems) + f"\nstderr: {outcome.stderr[:400]}"


def _run_case(work: Path, group: str, case: dict, command: str):
    inputs, out = work / "in", work / "out"
    inputs.mkdir()
    out.mkdir()
    for folder, mode in ((work, 0o755), (inputs, 0o755), (out, 0o777)):
        folder.chmod(mode)  # a case run as nobody must reach its input and write its outputs
    path = _input(group, case["input"], inputs)
    prepare_outputs(out, case.get("outputs"))
    exits = case["exit"] if isinstance(case["exit"], list) else [case["exit"]]
    names = case.get("names") or (path.name if not case.get("outputs") else "")
    expect = Expect(tuple(exits), case.get("message"), case.get("warning"), names, command)
    argv = argv_for(command, path, out, case.get("outputs"))
    before = snapshot(inputs), snapshot(out)
    outcome = run_subprocess(argv, case.get("user"))
    outcome.written = written_text(out)
    after = snapshot(inputs), snapshot(out)
    problems = violations(outcome, expect, work, (before[0], after[0]), (before[1], after[1]))
    return problems, outcome, argv


def _input(group: str, name: str, inputs: Path) -> Path:
    """A copy of the corpus input in `inputs` (or the run-time case built there)."""
    if group == "runtime":
        return build_runtime(name, inputs)
    source = CORPUS / (name if group == "outputs" else f"{group}/{name}")
    target = inputs / source.name
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    else:
        shutil.copy2(source, target)
    return target


def _record(group: str, case: dict, command: str, argv: list[str], outcome, problems: list[str]) -> None:
    """Append the failure to .fuzz-failures/corpus.jsonl, for the findings list."""
    entry = {
        "group": group,
        "input": case["input"],
        "outputs": case.get("outputs"),
        "command": command,
        "argv": argv,
        "exit": outcome.code,
        "stderr": outcome.stderr[-600:],
        "problems": problems,
        "seconds": round(outcome.seconds, 1),
    }
    with RESULTS.open("a") as handle:
        handle.write(json.dumps(entry) + "\n")
