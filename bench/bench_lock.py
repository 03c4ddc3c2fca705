"""Benchmark: fairness of the workspace write lock. ``--writers`` real processes each run
``--steps`` CLI mutations back to back (``task add`` and ``task move`` of its own task in
turn) against one workspace in a real git repository, with the configured lock timeout
(10 s unless ``--lock-timeout``). Reports the wall time of every call (p50 / p90 / p99 /
max), the calls that failed and their exit codes (8 = lock timeout), and each writer's total.

    python bench/bench_lock.py [--writers 16] [--steps 30] [--lock-timeout 10] [--out FILE]

A call's wall time is process start-up + its wait for the lock + its own work; under this
load the wait dominates, so the spread of the figures is the spread of the waits.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "agentctl"]


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "-W", str(root), *args], cwd=root, capture_output=True, text=True, check=False
    )


def worker(root: Path, index: int, own_task: str, steps: int, log: Path) -> int:
    """``steps`` mutations, alternately adding a task and moving the own task."""
    status = "in_progress"
    with open(log, "w", encoding="utf-8") as out:
        for j in range(steps):
            if j % 2 == 0:
                args = ["task", "add", f"w{index} step {j}"]
            else:
                target = "review" if status == "in_progress" else "in_progress"
                args = ["task", "move", own_task, target]
            started = time.monotonic()
            proc = _run(root, *args)
            elapsed = time.monotonic() - started
            if j % 2 == 1 and proc.returncode == 0:
                status = target
            out.write(
                json.dumps({"j": j, "rc": proc.returncode, "s": elapsed, "err": proc.stderr[-300:]})
                + "\n"
            )
            out.flush()
    return 0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench(writers: int, steps: int, lock_timeout: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-lock-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        env_git = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
        os.environ.update(env_git)
        os.environ["AGENTCTL_LOCK_TIMEOUT"] = str(lock_timeout)
        for args in (
            ["init", "-q", "-b", "main"],
            ["config", "user.name", "Bench"],
            ["config", "user.email", "b@example.com"],
        ):
            subprocess.run(["git", *args], cwd=root, check=True)
        _run(root, "init", str(root), "--name", "bench").check_returncode()
        own: list[str] = []
        for i in range(writers):
            proc = _run(root, "--json", "task", "add", f"w{i} own")
            proc.check_returncode()
            own.append(json.loads(proc.stdout)["task"]["id"])
            _run(root, "task", "move", own[-1], "in_progress").check_returncode()
        logs = [Path(tmp) / f"w{i}.jsonl" for i in range(writers)]
        started = time.monotonic()
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    str(root),
                    str(i),
                    own[i],
                    str(steps),
                    str(logs[i]),
                ]
            )
            for i in range(writers)
        ]
        for proc in procs:
            proc.wait()
        total = time.monotonic() - started
        records = [json.loads(line) for log in logs for line in log.read_text().splitlines()]
        per_writer = [
            sum(json.loads(line)["s"] for line in log.read_text().splitlines()) for log in logs
        ]
    times = [r["s"] for r in records]
    failures: dict[int, int] = {}
    for r in records:
        if r["rc"] != 0:
            failures[r["rc"]] = failures.get(r["rc"], 0) + 1
    return {
        "writers": writers,
        "steps": steps,
        "lock_timeout": lock_timeout,
        "calls": len(records),
        "wall_s": round(total, 1),
        "p50_s": round(_percentile(times, 0.50), 2),
        "p90_s": round(_percentile(times, 0.90), 2),
        "p99_s": round(_percentile(times, 0.99), 2),
        "max_s": round(max(times), 2),
        "mean_s": round(statistics.fmean(times), 2),
        "failures_by_exit_code": failures,
        "writer_total_min_s": round(min(per_writer), 1),
        "writer_total_max_s": round(max(per_writer), 1),
    }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        root, index, own, steps, log = sys.argv[2:]
        return worker(Path(root), int(index), own, int(steps), Path(log))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--lock-timeout", type=float, default=10.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = bench(args.writers, args.steps, args.lock_timeout)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
