"""Benchmark: the task graph's reads and what WORKING.md's critical-path line costs.

1. ``graph critical-path`` against ``task ready`` at 1,000 and 10,000 tasks: whole fresh
   processes, alternated pair by pair (ABBA) so load on the machine hits both alike; the
   index is warm. Also ``graph`` (tree) and ``graph gantt`` for reference.
2. WORKING.md: in one process, a render with the critical-path line and one with the line
   switched off (everything else identical), alternated, when the plan's input is unchanged
   (the cached path: a move, a claim, a comment) and when it changed (recomputed: a task
   added, finished, re-estimated); and whole mutations (``task add`` + ``task move``) with
   and without the line.

Reports medians and ratios; never pass/fail.

    python bench/bench_graph.py [--sizes 1000 10000] [--runs 15] [--pairs 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import build, run_once  # noqa: E402

from agentctl.core.rules import Actor  # noqa: E402
from agentctl.store.working import extract_notes, render  # noqa: E402
from agentctl.workspace import Workspace  # noqa: E402
from agentctl.workspace import graphs as graphs_module  # noqa: E402


def _alternate(
    runs: int, first: Callable[[], float], second: Callable[[], float]
) -> tuple[float, float]:
    """Medians (ms) of ``first`` and ``second`` run in ABBA order."""
    a: list[float] = []
    b: list[float] = []
    for i in range(runs * 2):
        if (i % 4) in (0, 3):
            a.append(first())
        else:
            b.append(second())
    return statistics.median(a) * 1000, statistics.median(b) * 1000


def processes(root: Path, runs: int) -> list[tuple[str, float, float]]:
    exe = [sys.executable, "-m", "agentctl"]
    env = {k: v for k, v in os.environ.items() if k not in ("AGENTCTL_WORKSPACE", "AGENTCTL_AGENT")}

    def timed(*args: str) -> Callable[[], float]:
        def run() -> float:
            elapsed, _, code = run_once([*exe, *args], root, env)
            if code != 0:
                raise SystemExit(f"exit {code}: agentctl {' '.join(args)}")
            return elapsed

        return run

    baseline = timed("task", "ready")
    baseline()  # warm the index and the page cache
    rows = []
    for label, args in (
        ("graph critical-path", ("graph", "critical-path")),
        ("graph critical-path --json", ("graph", "critical-path", "--json")),
        ("graph (tree)", ("graph",)),
        ("graph gantt", ("graph", "gantt", "--start", "2026-01-05")),
    ):
        timed(*args)()
        command, ready = _alternate(runs, timed(*args), baseline)
        rows.append((label, command, ready))
    return rows


def working_cost(root: Path, pairs: int) -> dict[str, tuple[float, float]]:
    """In-process: WORKING.md renders and whole mutations with and without the line."""
    os.environ["AGENTCTL_AUTOCOMMIT"] = "0"
    ws = Workspace(root)
    ws.refresh()
    real = graphs_module.working_critical_path

    def switch(on: bool) -> None:
        graphs_module.working_critical_path = real if on else (lambda _ws: None)  # type: ignore[assignment]

    notes = extract_notes(ws.read_working())

    def render_once(on: bool, forget: bool) -> Callable[[], float]:
        def run() -> float:
            switch(on)
            if forget:  # as after a change of the plan's input: the cached path does not match
                ws.index.db.execute("DELETE FROM meta WHERE key = 'working_critical_path'")
            start = time.perf_counter()
            render(ws.working_state(notes))
            return time.perf_counter() - start

        return run

    results: dict[str, tuple[float, float]] = {}
    render_once(True, False)()
    results["render, plan unchanged (cached)"] = _alternate(
        pairs, render_once(True, False), render_once(False, False)
    )
    results["render, plan changed (recomputed)"] = _alternate(
        pairs, render_once(True, True), render_once(False, True)
    )
    actor = Actor("bench")
    counter = [0]

    def mutate(on: bool) -> Callable[[], float]:
        def run() -> float:
            switch(on)
            counter[0] += 1
            start = time.perf_counter()
            task = ws.add_task(
                actor, f"bench {counter[0]}"
            )  # a new open task: the path is recomputed
            ws.move_task(actor, task["id"], "in_progress")  # same plan: the cached path
            return (time.perf_counter() - start) / 2

        return run

    results["mutation (task add + move), per mutation"] = _alternate(
        pairs, mutate(True), mutate(False)
    )
    switch(True)
    ws.close()
    del os.environ["AGENTCTL_AUTOCOMMIT"]
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument(
        "--parts", nargs="+", choices=["processes", "working"], default=["processes", "working"]
    )
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-graph-"))
    roots: dict[int, Path] = {}
    for size in args.sizes:
        roots[size] = base / f"ws-{size}"
        build(roots[size], size)
    if "processes" in args.parts:
        print("| tasks | command | median (ms) | `task ready` (ms) | ratio |")
        print("|---|---|---:|---:|---:|")
        for size, root in roots.items():
            for label, command, ready in processes(root, args.runs):
                print(
                    f"| {size:,} | `{label}` | {command:.0f} | {ready:.0f} | {command / ready:.2f} |",
                    flush=True,
                )
        print()
    if "working" not in args.parts:
        return
    print("| tasks | WORKING.md | with the line (ms) | without (ms) | added (ms) |")
    print("|---|---|---:|---:|---:|")
    for size, root in roots.items():
        for label, (with_ms, without_ms) in working_cost(root, args.pairs).items():
            print(
                f"| {size:,} | {label} | {with_ms:.1f} | {without_ms:.1f} | {with_ms - without_ms:+.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
