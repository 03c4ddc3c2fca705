"""Benchmark: whole-process wall time and peak memory of agentctl commands at 100 / 1,000 /
10,000 tasks. Reports medians over repeated runs; never a pass/fail timing.

    python bench/bench_cli.py [--sizes 100 1000 10000] [--runs 9] [--out bench/results/cli.md]

Workspaces are generated directly as files by bench_gen.py (agents through the API, tasks and
events as files, then one reindex), in a git repo with everything committed. Each command runs as a
fresh process, the way agents and people call it; the index is warm (one untimed run first),
as it is in normal use.
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

from agentctl.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from bench_gen import AGENTS, Params, generate  # noqa: E402

__all__ = ["AGENTS", "build", "measure", "run_once"]


def build(root: Path, n_tasks: int, seed: int = 7) -> list[str]:
    """A workspace of ``n_tasks`` tasks (one ``task.created`` event each, no messages) in a
    git repository with everything committed; see bench_gen.py."""
    params = Params(tasks=n_tasks, messages=0, events=n_tasks, seed=seed, commits=1)
    return generate(root, params, quiet=True, idle_agent=False).task_ids


def run_once(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, int]:
    """(seconds, peak RSS in KiB, exit code) of one whole process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss, proc.returncode


def measure(
    label: str, argv_for: object, cwd: Path, env: dict[str, str], runs: int
) -> dict[str, object]:
    times, peaks = [], []
    for i in range(runs + 1):
        argv = argv_for(i) if callable(argv_for) else argv_for  # type: ignore[operator]
        elapsed, peak, code = run_once(argv, cwd, env)
        if code != 0:
            raise SystemExit(f"{label}: exit {code}: {' '.join(argv)}")
        if i:  # the first run warms the index and the page cache
            times.append(elapsed)
            peaks.append(peak)
    return {
        "command": label,
        "median_ms": round(statistics.median(times) * 1000, 1),
        "peak_mib": round(max(peaks) / 1024, 1),
    }


def bench_size(n: int, runs: int, base: Path) -> list[dict[str, object]]:
    root = base / f"ws-{n}"
    task_ids = build(root, n)
    exe = [sys.executable, "-m", "agentctl"]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "AGENTCTL_WORKSPACE", "AGENTCTL_AGENT")
    }
    ws = Workspace(root)
    movable = [t for t in ws.list_tasks(statuses=["in_progress"])][:1][0]["id"]
    ws.close()
    show_id = task_ids[len(task_ids) // 2][:8]
    results = []
    results.append(measure("agentctl --help", [*exe, "--help"], root, env, runs))
    results.append(measure("task list --json", [*exe, "task", "list", "--json"], root, env, runs))
    results.append(measure("task list (plain, piped)", [*exe, "task", "list"], root, env, runs))
    results.append(measure("task show", [*exe, "task", "show", show_id], root, env, runs))
    results.append(measure("task ready", [*exe, "task", "ready"], root, env, runs))
    moves = iter(["review", "in_progress"] * 1000)  # alternates across both git modes
    for autocommit in ("0", "1"):
        env_mut = {**env, "AGENTCTL_AUTOCOMMIT": autocommit}
        suffix = " (git commit)" if autocommit == "1" else " (no commit)"
        results.append(
            measure(
                "task add" + suffix, [*exe, "task", "add", "benchmark task"], root, env_mut, runs
            )
        )
        results.append(
            measure(
                "task move" + suffix,
                lambda _: [*exe, "task", "move", movable, next(moves)],
                root,
                env_mut,
                runs,
            )
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    table: dict[str, dict[int, dict[str, object]]] = {}
    with tempfile.TemporaryDirectory(prefix="agentctl-bench-") as tmp:
        for n in args.sizes:
            for row in bench_size(n, args.runs, Path(tmp)):
                table.setdefault(str(row["command"]), {})[n] = row
                print(json.dumps({"tasks": n, **row}), file=sys.stderr)
    header = (
        "| command | " + " | ".join(f"{n:,} tasks: median ms (peak MiB)" for n in args.sizes) + " |"
    )
    lines = [header, "|---|" + "---:|" * len(args.sizes)]
    for command, by_size in table.items():
        cells = [f"{by_size[n]['median_ms']} ({by_size[n]['peak_mib']})" for n in args.sizes]
        lines.append(f"| `{command}` | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
