"""The bad-input contract of the CLI, shared by the corpus test and the fuzzers.

Every run must: exit 0 or 2 (check: 1 and 3 are verdicts too); on 2 print exactly one stderr line of at
most LINE_LIMIT characters (the work folder's path not counted) that names the file; print no traceback
and no "internal error" (the CLI's last-resort catch-all); leave the input and its folder unchanged; on 2
leave no output behind; finish within the time limit and the address-space limit.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "bad"
GOOD = CORPUS / "kineto" / "good.json"
FAILURES = ROOT / ".fuzz-failures"
LINE_LIMIT = 200
TIMEOUT_S = 20.0
MEMORY_LIMIT = 3 << 30
NOBODY = 65534
VERDICTS = {"check": {0, 1, 3}, "budget": {0, 1, 3}}


@dataclass
class Outcome:
    """What one CLI run did."""

    code: int | None  # None: killed by the time limit
    stdout: str
    stderr: str
    seconds: float
    written: str = ""  # the warnings recorded in the outputs it wrote, for the warning regex


@dataclass
class Expect:
    """What a case must do: one of `exits`, and on 2 a line matching `message` that names `names`."""

    exits: tuple[int, ...]
    message: str | None = None
    warning: str | None = None
    names: str = ""
    command: str = "analyze"
    extra: list[str] = field(default_factory=list)


def argv_for(command: str, path: Path, out: Path, outputs: str | None = None, html: bool = True) -> list[str]:
    """The CLI arguments of `command` on `path`, writing into `out` (or into the unusable path)."""
    json_out, html_out = out / "analysis.json", out / "report.html"
    if outputs:
        target = out / "taken" if outputs.endswith("_dir") else out / "afile" / "x.out"
        if outputs.startswith("json"):
            json_out = target
        else:
            html_out = target
    html_args = ["--html", str(html_out)] if html else ["--no-html"]
    return {
        "analyze": ["analyze", str(path), "--json", str(json_out), *html_args],
        "check": ["check", str(path), "--baseline", str(GOOD), "--json", str(json_out)],
        "diff": ["diff", str(GOOD), str(path), "--json", str(json_out)],
        "report": ["report", str(path), "--html", str(html_out)],
        "budget": [
            "check",
            str(GOOD),
            "--baseline",
            str(GOOD),
            "--budget",
            str(path),
            "--json",
            str(json_out),
        ],
    }[command]


def prepare_outputs(out: Path, outputs: str | None) -> None:
    """Make the output path of variant `outputs` unusable: a directory, or a path under a file."""
    if outputs and outputs.endswith("_dir"):
        (out / "taken").mkdir()
    elif outputs:
        (out / "afile").write_text("a file, not a folder\n")


def snapshot(folder: Path) -> dict[str, tuple]:
    """Name -> (type, size, mtime, sha256) of everything under `folder`, symlinks not followed."""
    found: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            info = path.lstat()
            digest = ""
            if path.is_file() and not path.is_symlink() and info.st_size < (256 << 20):
                digest = _sha256(path)
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
            found[str(path.relative_to(folder))] = (
                kind,
                info.st_size,
                info.st_mtime_ns,
                info.st_mode,
                digest,
            )
    return found


def _sha256(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return "unreadable"


def written_text(out: Path) -> str:
    """The warnings recorded in the JSON outputs under `out` (any list under a "warnings" key)."""
    found: list[str] = []
    for path in out.rglob("*.json"):
        if path.is_file() and path.stat().st_size < 64 << 20:
            try:
                _collect_warnings(json.loads(path.read_text(errors="replace")), found)
            except ValueError:
                continue
    return "\n".join(found)


def _collect_warnings(value: object, found: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "warnings" and isinstance(item, list):
                found += [str(w) for w in item]
            else:
                _collect_warnings(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_warnings(item, found)


def run_subprocess(argv: list[str], user: str | None = None, timeout: float = TIMEOUT_S) -> Outcome:
    """`python -m tracekit ARGV` in a subprocess with a time and an address-space limit."""
    command = [sys.executable, "-m", "tracekit", *argv]
    if user and os.geteuid() == 0:
        command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", *command]
    env = {k: v for k, v in os.environ.items() if k != "TRACEKIT_DEBUG"} | {"PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, timeout=timeout, preexec_fn=_limit_memory
        )
    except subprocess.TimeoutExpired as exc:
        return Outcome(None, _text(exc.stdout), _text(exc.stderr), time.monotonic() - started)
    return Outcome(done.returncode, _text(done.stdout), _text(done.stderr), time.monotonic() - started)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _text(data: bytes | str | None) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


class CaseTimeout(BaseException):
    """Raised by the alarm of an in-process run; a BaseException so the CLI's catch-all lets it pass."""


def run_inprocess(argv: list[str], timeout: float = 10.0) -> Outcome:
    """tracekit.cli.main.main() with sys.argv patched, stdout and stderr captured, under an alarm."""
    from tracekit.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    saved_argv, code, started = sys.argv, 0, time.monotonic()
    sys.argv = ["tracekit", *argv]
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except CaseTimeout:
        code = None
    except Exception as exc:  # main() lets nothing through; if it does, that is a failure too
        err.write(f"Traceback (escaped main): {type(exc).__name__}: {exc}\n")
        code = 99
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.argv = saved_argv
    return Outcome(code, out.getvalue(), err.getvalue(), time.monotonic() - started)


def _on_alarm(_signum: int, _frame: object) -> None:
    raise CaseTimeout


def violations(
    outcome: Outcome, expect: Expect, work: Path, inputs: tuple[dict, dict], outputs: tuple[dict, dict]
) -> list[str]:
    """Every way `outcome` breaks the contract or the case's expectation; empty when it holds."""
    problems = _exit_problems(outcome, expect)
    text = outcome.stdout + outcome.stderr
    if "Traceback" in text:
        problems.append("printed a traceback")
    if "internal error" in outcome.stderr:
        problems.append("ended in the CLI's catch-all 'internal error'")
    if outcome.code == 2:
        problems += _message_problems(outcome.stderr, expect, work)
    elif (
        outcome.code == 0
        and expect.warning
        and not _warned(expect.warning, _warnings(text) + outcome.written)
    ):
        problems.append(f"exit 0 without a warning matching /{expect.warning}/")
    if inputs[0] != inputs[1]:
        problems.append(f"input folder changed: {_changes(*inputs)}")
    if outcome.code == 2 and outputs[0] != outputs[1]:
        problems.append(f"output left behind on exit 2: {_changes(*outputs)}")
    return problems


def _warnings(text: str) -> str:
    """The lines of printed output that are warnings."""
    return "\n".join(line for line in text.splitlines() if "warn" in line.lower()) + "\n"


def _warned(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def _exit_problems(outcome: Outcome, expect: Expect) -> list[str]:
    if outcome.code is None:
        return [f"no exit within {outcome.seconds:.0f} s (hang)"]
    if outcome.code < 0:
        return [f"killed by signal {-outcome.code} ({signal.Signals(-outcome.code).name})"]
    clean = {0, 2} | VERDICTS.get(expect.command, set())
    if outcome.code not in clean:
        return [f"exit {outcome.code}, not 0 or 2"]
    allowed = set(expect.exits) | (VERDICTS.get(expect.command, set()) if 0 in expect.exits else set())
    if outcome.code not in allowed:
        return [f"exit {outcome.code}, expected {' or '.join(map(str, expect.exits))}"]
    return []


def _message_problems(stderr: str, expect: Expect, work: Path) -> list[str]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    if len(lines) != 1:
        return [f"{len(lines)} stderr lines on exit 2, not 1"]
    line, problems = lines[0], []
    length = len(line.replace(str(work), "").replace(str(ROOT), ""))
    if length > LINE_LIMIT:
        problems.append(f"message of {length} characters (limit {LINE_LIMIT}, paths not counted)")
    if expect.names and expect.names not in line:
        problems.append(f"message does not name {expect.names!r}")
    if expect.message and not re.search(expect.message, line, re.IGNORECASE):
        problems.append(f"message does not match /{expect.message}/")
    return problems


def _changes(before: dict, after: dict) -> str:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    parts = [f"{label} {', '.join(names[:5])}" for label, names in
             (("added", added), ("removed", removed), ("changed", changed)) if names]  # fmt: skip
    return "; ".join(parts)


def remove(folder: Path) -> None:
    """Remove a work folder, mode-000 parts included."""
    for dirpath, dirnames, _files in os.walk(folder, followlinks=False):
        for name in dirnames:
            path = Path(dirpath, name)
            if not path.is_symlink():
                path.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)
