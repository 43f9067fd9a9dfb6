"""`tracekit check` and `diff` on the real H100 traces (tests/data/gpu/SOURCE.md): three separate
recordings of one unchanged workload must never fail; 28 separate copies per step against one
batched copy must fail and say by how much. Also runs the GitHub Actions job of docs/ci.md."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GPU_DATA, ROOT
from junitparser import JUnitXml

from tracekit.compare.budget import default_budgets
from tracekit.compare.check import check
from tracekit.compare.metrics import catalogue
from tracekit.compare.run import Run, run_of
from tracekit.readers import read_trace

SEPARATE = [GPU_DATA / f"h2d28_separate_run{i}.pt.trace.json.gz" for i in (1, 2, 3)]
BATCHED = GPU_DATA / "h2d_batched.pt.trace.json.gz"
CI_DOC = ROOT / "docs" / "ci.md"
NOT_RUN_IN_TESTS = {"Install tracekit", "Record the trace"}  # need the user's package index and GPU


def _tracekit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracekit", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)  # fmt: skip


@pytest.fixture(scope="module")
def separate_runs() -> list[Run]:
    return [run_of(read_trace(path)) for path in SEPARATE]


def test_a_trace_checked_against_itself_passes() -> None:
    result = _tracekit("check", str(SEPARATE[0]), "--baseline", str(SEPARATE[0]), "--json", "-")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "pass" and document["counts"] == {
        "pass": len(default_budgets()),
        "regression": 0,
        "inconclusive": 0,
    }
    assert all(v["change"] == 0 for v in document["verdicts"])


@pytest.mark.parametrize(("new", "base"), list(itertools.permutations(range(3), 2)))
def test_separate_recordings_never_fail_against_one_baseline(
    separate_runs: list[Run], new: int, base: int
) -> None:
    document = check(separate_runs[new], [separate_runs[base]], default_budgets(), "default")
    assert document["counts"]["regression"] == 0
    stable = [v for v in document["verdicts"] if v["stability"] == "run-stable"]
    assert all(v["status"] == "pass" for v in stable)  # run-stable metrics agree across runs


@pytest.mark.parametrize("new", range(3))
def test_separate_recordings_pass_against_the_other_two(separate_runs: list[Run], new: int) -> None:
    others = [run for i, run in enumerate(separate_runs) if i != new]
    document = check(separate_runs[new], others, default_budgets(), "default")
    assert document["status"] == "pass"


def test_the_one_baseline_case_that_exceeds_the_step_budget_is_inconclusive(separate_runs: list[Run]) -> None:
    # run 2 (p50 1.083 ms) against run 3 (0.975 ms): +11.0 % > +10 %, but one run cannot show the spread
    document = check(separate_runs[1], [separate_runs[2]], default_budgets(), "default")
    step = document["verdicts"][0]
    assert (step["path"], step["status"]) == ("step.p50", "inconclusive")
    assert step["relative_change"] == pytest.approx(1082543 / 974982 - 1)
    result = _tracekit("check", str(SEPARATE[1]), "--baseline", str(SEPARATE[2]), "--fail-on-inconclusive")
    assert result.returncode == 3
    assert _tracekit("check", str(SEPARATE[1]), "--baseline", str(SEPARATE[2])).returncode == 0


def test_separate_copies_against_batched_fail_naming_metric_shift_and_interval(tmp_path: Path) -> None:
    out = tmp_path / "check.json"
    result = _tracekit("check", str(SEPARATE[0]), "--baseline", str(BATCHED), "--json", str(out))
    assert result.returncode == 1, result.stderr
    verdicts = {v["path"]: v for v in json.loads(out.read_text())["verdicts"]}
    h2d = verdicts["h2d.per_step"]
    assert (h2d["status"], h2d["base"], h2d["new"], h2d["change"]) == ("regression", 1.0, 28.0, 27.0)
    assert (h2d["test"]["shift"], h2d["test"]["interval"]) == (27.0, [27.0, 27.0])
    busy = verdicts["device.busy_per_step_ns"]
    assert busy["status"] == "regression" and busy["relative_change"] == pytest.approx(0.806, abs=0.001)
    assert busy["test"]["interval"] == [53023.0, 54366.0] and busy["test"]["shift"] == 53504.0
    step = verdicts["step.p50"]  # +218 % against one baseline run: beyond the 75 % prior's 241 us
    assert step["status"] == "regression" and step["test"]["interval"] == [656503.0, 731173.0]
    assert step["noise_margin"] == pytest.approx(0.75 * step["base"]) and "prior" in step["reason"]
    launches = verdicts["host.launch_calls_per_step"]
    assert (launches["status"], launches["base"], launches["new"]) == ("regression", 10.0, 37.0)
    assert "h2d.per_step: regression" in " ".join(result.stdout.split())
    assert "Hodges-Lehmann shift +53.5 us [+53 us, +54.4 us]" in " ".join(result.stdout.split())


def test_diff_of_the_real_pair_as_json() -> None:
    result = _tracekit("diff", str(BATCHED), str(SEPARATE[0]), "--json", "-")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    metrics = {row["path"]: row for row in document["metrics"]}
    assert (metrics["h2d.per_step"]["base"], metrics["h2d.per_step"]["new"]) == (1.0, 28.0)
    assert document["steps"]["new"]["values_ns"][0] == 1099152


def test_docs_list_every_metric_path() -> None:
    text = CI_DOC.read_text()
    missing = [m.path for m in catalogue() if f"`{m.path}`" not in text]
    assert missing == []


def test_github_actions_example_runs(tmp_path: Path) -> None:
    job = _yaml_block_after(CI_DOC.read_text(), "## GitHub Actions")
    env = dict(re.findall(r"^ {6}([A-Z_]+): (\S+)$", job, flags=re.MULTILINE))
    steps = re.findall(r"^ {6}- name: (.+)\n(?: {8}if: .+\n)? {8}run: (.+)$", job, flags=re.MULTILINE)
    assert set(env) == {"NEW_TRACE", "BASELINE"}
    names = [name for name, _ in steps]
    assert names == ["Install tracekit", "Record the trace", "Check against the baseline runs", "Job summary"]
    (tmp_path / env["BASELINE"]).mkdir(parents=True)
    for path in (SEPARATE[0], SEPARATE[2]):
        shutil.copy(path, tmp_path / env["BASELINE"] / path.name)
    (tmp_path / env["NEW_TRACE"]).parent.mkdir(parents=True)
    shutil.copy(SEPARATE[1], tmp_path / env["NEW_TRACE"])
    summary = tmp_path / "step_summary.md"
    shell_env = {**os.environ, **env, "GITHUB_STEP_SUMMARY": str(summary),
                 "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    for name, command in steps:
        if name in NOT_RUN_IN_TESTS:
            continue
        result = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=shell_env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, (name, result.stderr)
    reports = tmp_path / "reports"
    assert sorted(p.name for p in reports.iterdir()) == [
        "perf.check.json",
        "perf.junit.xml",
        "perf.md",
        "perf.sarif",
    ]
    assert summary.read_text().startswith("### tracekit check: pass")
    (suite,) = JUnitXml.fromfile(str(reports / "perf.junit.xml"))
    cases = list(suite)
    assert len(cases) == len(default_budgets())


def _yaml_block_after(text: str, heading: str) -> str:
    section = text[text.index(heading) :]
    return section[section.index("```yaml\n") + 8 : section.index("\n```", section.index("```yaml\n"))]


def test_relative_budgets_without_baseline_are_a_usage_error() -> None:
    result = _tracekit("check", str(SEPARATE[0]))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "need --baseline" in result.stderr


def test_absolute_budget_needs_no_baseline(tmp_path: Path) -> None:
    budget = tmp_path / "budget.toml"
    budget.write_text('h2d.per_step = "<= 2"\nd2h.per_step = "<= 1"\n')
    result = _tracekit("check", str(SEPARATE[0]), "--budget", str(budget), "--json", "-")
    assert result.returncode == 1
    verdicts = json.loads(result.stdout)["verdicts"]
    assert [(v["path"], v["status"], v["new"], v["limit"]) for v in verdicts] == [
        ("h2d.per_step", "regression", 28.0, 2.0),
        ("d2h.per_step", "pass", 1.0, 1.0),
    ]
    assert _tracekit("check", str(BATCHED), "--budget", str(budget)).returncode == 0


def test_a_baseline_folder_skips_files_that_are_not_traces(tmp_path: Path) -> None:
    folder = tmp_path / "perf-baseline"
    folder.mkdir()
    for i in (1, 2):
        shutil.copy(SEPARATE[i], folder / SEPARATE[i].name)
    (folder / "LICENSE").write_text("MIT License\n")
    (folder / "SOURCE.md").write_text("# where these came from\n")
    (folder / "kernels.csv").write_text("Name,Time (%)\nk,100\n")
    result = _tracekit("check", str(SEPARATE[0]), "--baseline", str(folder), "--json", "-")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["baselines"] == [
        {"source": str(folder / SEPARATE[i].name), "steps": 10} for i in (1, 2)
    ]
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: skipped")]
    assert len(notes) == 3 and all("unrecognised trace format" in line for line in notes)


def test_several_ranks_are_checked_rank_by_rank(tmp_path: Path) -> None:
    from conftest import shared_trace

    cluster = shared_trace("msprof/msinsight-torchnpu-level1")  # rank0_ascend_pt and rank1_ascend_pt
    out = tmp_path / "check.json"
    result = _tracekit("check", str(cluster), "--baseline", str(cluster), "--json", str(out))
    assert result.returncode == 0, result.stderr
    for rank in (0, 1):
        document = json.loads((tmp_path / f"check.rank{rank}.json").read_text())
        assert document["status"] == "pass" and len(document["baselines"]) == 1
        assert document["new"]["source"].endswith(f"rank{rank}_ascend_pt")
        assert document["baselines"][0]["source"] == document["new"]["source"]
    assert not out.exists()
    refused = _tracekit("check", str(cluster), "--baseline", str(cluster), "--json", "-")
    assert refused.returncode == 2 and "one file per rank" in refused.stderr
