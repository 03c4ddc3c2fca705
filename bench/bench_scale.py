"""Benchmark: is a command's cost flat in the size of the workspace? The same commands at
1,000 and 100,000 tasks (with 5 messages and 10 event lines per task, and git history, from
bench_gen.py), each as a fresh process, interleaved size by size run by run; medians, peak
RSS and the ratio of the largest size to the smallest. Never a pass/fail timing.

    python bench/bench_scale.py [--sizes 1000 100000] [--runs 5] [--cache DIR]
                                [--out bench/results/scale.md]

Workspaces are generated once into ``--cache`` (default: $TMPDIR/agentctl-bench-gen) and
reused by later runs with the same sizes (the mutations below add a few tasks and messages
to them each run). Before timing, one untimed ``task list`` per workspace brings its index up
to date with the files (a cache, built by bench_gen, as it is in normal use).

Commands: ``task show``, ``task ready --limit 50``, ``task list --limit 50``, ``search``,
``inbox --as AGENT``, ``feed --limit 50``, ``task add``, ``task move`` and ``task comment``
with auto-commit on, an idle ``heartbeat`` (an agent with no tasks, notifications or reviews:
the tick collects nothing and calls no runtime), and the time to the first row of a full
``task list`` read from a pipe (the process then runs to its end; its RSS is the whole run's).
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
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_gen import IDLE_AGENT, Generated, default_params, generate  # noqa: E402

from agentctl.workspace import Workspace  # noqa: E402

SEARCH_WORD = "hooks"
INBOX_AGENT = "agent-3"
FIRST_ROW = "task list: first row (full list, piped)"


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run(
    argv: list[str], cwd: Path, env: dict[str, str], first_line: bool = False
) -> tuple[float, int | None, int]:
    """(seconds, peak RSS in KiB, exit code) of one whole process; with ``first_line``, the
    seconds until its first line of output reached the pipe (it then runs to its end).

    The peak RSS comes from GNU time (``/usr/bin/time -f %M``), a small process in between:
    Linux keeps a process's peak RSS across exec, so a command started straight from this
    (large) process would report this process's size as its own floor. Without GNU time it
    is not measured (None)."""
    with tempfile.NamedTemporaryFile(prefix="bench-scale-rss-") as rss:
        full = [GNU_TIME, "-f", "%M", "-o", rss.name, *argv] if GNU_TIME else argv
        start = time.perf_counter()
        proc = subprocess.Popen(
            full,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE if first_line else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        elapsed: float | None = None
        if first_line:
            assert proc.stdout is not None
            proc.stdout.readline()
            elapsed = time.perf_counter() - start
            while proc.stdout.read(1 << 16):
                pass
            proc.stdout.close()
        code = proc.wait()
        if elapsed is None:
            elapsed = time.perf_counter() - start
        text = Path(rss.name).read_text(encoding="utf-8").split()
    return elapsed, int(text[-1]) if GNU_TIME and text else None, code


def commands(made: Generated, root: Path) -> dict[str, Callable[[int], list[str]]]:
    exe = [sys.executable, "-m", "agentctl"]
    ws = Workspace(root)
    try:
        moving = ws.list_tasks(statuses=["in_progress"], limit=1)[0]["id"]
    finally:
        ws.close()
    shown = made.task_ids[len(made.task_ids) // 2]
    ready_help = subprocess.run(
        [*exe, "task", "ready", "--help"], cwd=root, capture_output=True, text=True
    ).stdout
    ready = ["--limit", "50"] if "--limit" in ready_help else []  # older CLIs: the whole list
    return {
        "task show": lambda _: [*exe, "task", "show", shown],
        " ".join(["task ready", *ready]): lambda _: [*exe, "task", "ready", *ready],
        "task list --limit 50": lambda _: [*exe, "task", "list", "--limit", "50"],
        f"search {SEARCH_WORD}": lambda _: [*exe, "search", SEARCH_WORD],
        f"inbox --as {INBOX_AGENT}": lambda _: [*exe, "--as", INBOX_AGENT, "inbox"],
        "feed --limit 50": lambda _: [*exe, "feed", "--limit", "50"],
        "task add (commit)": lambda _: [*exe, "task", "add", "scale benchmark task"],
        "task move (commit)": lambda i: [
            *exe,
            "task",
            "move",
            moving,
            ["review", "in_progress"][i % 2],
        ],  # fmt: skip
        "task comment (commit)": lambda i: [
            *exe,
            "task",
            "comment",
            made.thread_task,
            f"scale benchmark comment {i}",
        ],  # fmt: skip
        "heartbeat (idle agent)": lambda _: [*exe, "heartbeat", IDLE_AGENT],
        FIRST_ROW: lambda _: [*exe, "task", "list", "--all"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "agentctl-bench-gen"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "AGENTCTL_WORKSPACE", "AGENTCTL_AGENT")
    }
    env["AGENTCTL_AUTOCOMMIT"] = "1"
    roots: dict[int, Path] = {}
    argvs: dict[int, dict[str, Callable[[int], list[str]]]] = {}
    for n in args.sizes:
        root = (args.cache / f"ws-{n}").resolve()
        began = time.perf_counter()
        made = generate(root, default_params(n))
        print(
            f"bench_scale: {n:,} tasks at {root} ({time.perf_counter() - began:.1f} s)",
            file=sys.stderr,
        )
        roots[n], argvs[n] = root, commands(made, root)
        run([sys.executable, "-m", "agentctl", "task", "list"], root, env)  # index warm
    labels = list(argvs[args.sizes[0]])
    times: dict[str, dict[int, list[float]]] = {c: {n: [] for n in args.sizes} for c in labels}
    peaks: dict[str, dict[int, list[int]]] = {c: {n: [] for n in args.sizes} for c in labels}
    if GNU_TIME is None:
        print("bench_scale: no /usr/bin/time: peak RSS not measured", file=sys.stderr)
    loads = [os.getloadavg()[0]]
    for round_ in range(args.runs + 1):  # round 0 warms the page cache
        for label in labels:
            for n in args.sizes:
                argv = argvs[n][label](round_)
                elapsed, peak, code = run(argv, roots[n], env, first_line=label == FIRST_ROW)
                if code != 0:
                    raise SystemExit(f"bench_scale: {label} at {n}: exit {code}: {argv}")
                if round_:
                    times[label][n].append(elapsed)
                    peaks[label][n].append(peak or 0)
        loads.append(os.getloadavg()[0])
        print(f"bench_scale: round {round_}/{args.runs}", file=sys.stderr, flush=True)
    small, larger = args.sizes[0], args.sizes[1:]
    header = " | ".join(f"{n:,} tasks: ms (MiB)" for n in args.sizes)
    ratios = " | ".join(f"{n:,} ÷ {small:,}" for n in larger)
    lines = [f"| command | {header} | {ratios} |", "|---|" + "---:|" * (2 * len(args.sizes) - 1)]
    rows = []
    for label in labels:
        med = {n: statistics.median(times[label][n]) * 1000 for n in args.sizes}
        mib = {n: max(peaks[label][n]) / 1024 for n in args.sizes}
        cells = " | ".join(f"{med[n]:.0f} ({mib[n]:.0f})" for n in args.sizes)
        factors = " | ".join(f"{med[n] / med[small]:.2f}" for n in larger)
        lines.append(f"| `{label}` | {cells} | {factors} |")
        rows.append({"command": label, "median_ms": med, "peak_mib": mib})
    print(json.dumps(rows), file=sys.stderr)
    text = "\n".join(lines) + (
        f"\n\nMedians of {args.runs} runs after a warm-up round, interleaved size by size; "
        f"load average (1 min) {min(loads):.1f}-{max(loads):.1f} during the run.\n"
    )
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
