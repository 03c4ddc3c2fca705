"""Benchmark: a round of ``heartbeat --all`` against a slow model, serial and in parallel.

    python bench/bench_jobs.py [--agents 10] [--delay 2] [--runs 5] [--serial-runs 3]
                               [--out bench/results/jobs.md]

The workspace is a git repository with ``--agents`` agents on the ``command`` runtime whose
command is the stub model: a small Python script that reads the prompt, sleeps ``--delay``
seconds (the model call) and prints a valid answer (a comment on the agent's task). Each
agent has one assigned task, so every tick calls its model, applies one action and commits.
The containment window and the sandbox are the configured defaults, as a user gets them.

Measured, as whole ``python -m agentctl`` processes (the way cron and people run them), the
median wall time over ``--runs`` (``--serial-runs`` for the serial round, which takes
agents × delay):

* one tick, ``heartbeat AGENT``: the yardstick;
* the round ``heartbeat --all --jobs N`` for N = agents, the default, and 1 (today's serial
  round).

Each figure is reported with its ratio to one tick; the target of issue 12 is a round of 10
agents with ``--jobs 10`` within 1.5x one tick. Medians, never pass/fail timings.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agentctl.heartbeat.parallel import default_jobs

STUB = """\
import json, sys, time
task = sys.argv[1]
sys.stdin.read()
time.sleep(float(sys.argv[2]))
print(json.dumps({"actions": [{"type": "comment", "task": task, "text": "progress"}]}))
"""


def _env() -> dict[str, str]:
    drop = {"PYTHONDONTWRITEBYTECODE", "AGENTCTL_JOBS", "AGENTCTL_AUTOCOMMIT", "AGENTCTL_WORKSPACE",
            "AGENTCTL_AGENT"}  # fmt: skip
    return {k: v for k, v in os.environ.items() if k not in drop}


def agentctl(root: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "agentctl", *args],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"agentctl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


def build(base: Path, agents: int, delay: float) -> tuple[Path, list[str]]:
    root = base / "ws"
    root.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "Bench"],
        ["config", "user.email", "bench@example.com"],
        ["config", "commit.gpgsign", "false"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    agentctl(root, "init")
    stub = base / "stub_model.py"
    stub.write_text(STUB, encoding="utf-8")
    names = [f"dev-{i:02d}" for i in range(agents)]
    for name in names:
        agentctl(root, "agent", "add", name, "--role", "developer", "--runtime", "manual")
        task = json.loads(
            agentctl(root, "task", "add", f"work of {name}", "--assign", name, "--json")
        )
        command = shlex.join([sys.executable, str(stub), task["task"]["id"], str(delay)])
        agentctl(root, "agent", "edit", name, "--runtime", "command", "--command", command)
    return root, names


def wall(root: Path, args: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "agentctl", *args],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"agentctl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    if args[0] == "heartbeat":
        outcomes = [r["outcome"] for r in json.loads(proc.stdout)["runs"]]
        if set(outcomes) != {"worked"}:
            raise SystemExit(f"agentctl {' '.join(args)}: not every tick worked: {outcomes}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serial-runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        root, names = build(Path(tmp), args.agents, args.delay)
        wall(root, ["heartbeat", names[0], "--json"])  # warm-up: index, bytecode
        cases = [
            ("one tick: `heartbeat AGENT`", ["heartbeat", names[0], "--json"], args.runs),
            (
                f"round, `--jobs {args.agents}`",
                ["heartbeat", "--all", "--jobs", str(args.agents), "--json"],
                args.runs,
            ),
            (
                f"round, default `--jobs` ({default_jobs()} here)",
                ["heartbeat", "--all", "--json"],
                args.runs,
            ),
            ("round, `--jobs 1` (serial)", ["heartbeat", "--all", "--jobs", "1", "--json"],
             args.serial_runs),
        ]  # fmt: skip
        # Interleaved: every case once per pass, so they share the machine's load of the
        # moment; each pass's ratio to its own one-tick figure is reported too.
        times: list[list[float]] = [[] for _ in cases]
        load_start = os.getloadavg()[0]
        for number in range(max(args.runs, args.serial_runs)):
            for index, (_, argv, runs) in enumerate(cases):
                if number < runs:
                    times[index].append(wall(root, argv))
            print(json.dumps({"pass": number, "seconds": [t[-1] for t in times if len(t) > number]}),
                  file=sys.stderr)  # fmt: skip
        results = []
        for (label, _, _), seconds in zip(cases, times, strict=True):
            ratios = [t / one for t, one in zip(seconds, times[0], strict=False)]
            results.append((label, statistics.median(seconds), statistics.median(ratios), seconds))
        commits = subprocess.run(
            ["git", "rev-list", "--count", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        clean = not subprocess.run(
            ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True
        ).stdout.strip()

    load = os.getloadavg()[0]
    lines = [
        f"{args.agents} command agents, stub model sleeping {args.delay:g} s, git auto-commit on, "
        f"default sandbox; {os.cpu_count()} CPUs, load average {load_start:.1f} at the start and "
        f"{load:.1f} at the end; medians of {args.runs} interleaved passes ({args.serial_runs} "
        f"for the serial round). After all runs: {commits} commits, `git status` "
        f"{'clean' if clean else 'NOT clean'}.",
        "",
        "| case | median s | median ratio to one tick (same pass) | runs (s) |",
        "|---|---:|---:|---|",
    ]
    for label, med, ratio, seconds in results:
        runs_text = ", ".join(f"{t:.2f}" for t in seconds)
        lines.append(f"| {label} | {med:.2f} | {ratio:.2f} | {runs_text} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
