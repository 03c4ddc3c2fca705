"""Benchmark (issue 15): start-up of read commands against a trivial typer app, peak memory of
read commands, and time to the first row of a streamed ``task list``.

    python bench/bench_startup.py [--tasks 1000] [--runs 21] [--work DIR] [--src DIR]
    python bench/bench_startup.py --memory [--tasks 100000] [--work DIR]

Start-up (default): a workspace of ``--tasks`` tasks is built once with ``bench/bench_cli.py``'s
``build`` (reused from ``--work``), and a trivial typer app of the same shape (a group with one
subcommand that prints a line, run as ``python -m``, like ``python -m agentctl``) is written
next to it. Every round runs the floor and each agentctl command as fresh processes, one after
the other, so load on a shared machine falls on all alike. Bytecode caching is on (the child
environment drops ``PYTHONDONTWRITEBYTECODE``) and one untimed round warms the caches.
Reported: median ms per command and its ratio to the floor's median (``--help`` against the
trivial app's ``--help``; read commands against its subcommand), and the same for the CPU time
(user + system) of the process, which waiting for a core on a loaded machine does not inflate.

``--memory``: peak RSS (``ru_maxrss`` of the child) of the read commands, including a full
``task list`` and ``task list --json`` and ``stats --json``, and the time from start to the
first line of a full plain ``task list`` read from a pipe. Sizes above 10,000 copy a
10,000-task workspace's files under new IDs (``bench/bench_index.py``'s trick).
``--no-scan`` runs each command with ``Index.refresh_records`` stubbed out (the workspace was
just indexed, so nothing is missed): the figures then leave out the freshness scan that stats
every record file, which is measured and changed separately (issue 15, "Freshness").
``--src`` runs another checkout's ``src`` (e.g. one exported with ``git archive``) for a
before/after comparison.
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

HERE = Path(__file__).resolve().parent.parent

FLOOR_MAIN = '''import typer

app = typer.Typer(help="A trivial app.", rich_markup_mode=None, no_args_is_help=True)


@app.callback()
def root() -> None:
    """The root group."""


@app.command()
def hello() -> None:
    """Print a line."""
    print("hello")


app()
'''


def floor_app(work: Path) -> Path:
    """A package ``trivialapp`` under WORK, run as ``python -m trivialapp``."""
    package = work / "floor" / "trivialapp"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "__main__.py").write_text(FLOOR_MAIN, encoding="utf-8")
    return package.parent


def child_env(src: Path, floor: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "AGENTCTL_WORKSPACE", "AGENTCTL_AGENT")
    }
    env["PYTHONPATH"] = os.pathsep.join([str(src), str(floor)])
    env["AGENTCTL_AUTOCOMMIT"] = "0"
    return env


GNU_TIME = "/usr/bin/time"


def run_once(
    argv: list[str], cwd: Path, env: dict[str, str], peak: bool = False
) -> tuple[float, int]:
    """(seconds, peak RSS in KiB) of one whole process; its output is discarded."""
    elapsed, rss, _ = run_timed(argv, cwd, env, peak)
    return elapsed, rss


def run_timed(
    argv: list[str], cwd: Path, env: dict[str, str], peak: bool = False
) -> tuple[float, int, float]:
    """(seconds, peak RSS in KiB, CPU seconds) of one whole process; its output is discarded.

    The peak comes from GNU time when it is installed: Linux keeps the peak RSS of the memory
    a process had before ``exec``, so the ``ru_maxrss`` that ``wait4`` reports for a child
    spawned (vfork) from this process would include this process's own RSS."""
    timed = peak and os.path.exists(GNU_TIME)
    command = [GNU_TIME, "-f", "%M", *argv] if timed else argv
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8", "replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"exit {code}: {' '.join(argv)}\n{err}")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, int(err.split()[-1]) if timed else usage.ru_maxrss, cpu


def first_line(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds to the first line on a pipe, seconds to the end, lines) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    first = time.perf_counter() - start
    lines = 1 + sum(1 for _ in proc.stdout)
    if proc.wait() != 0:
        raise SystemExit(f"exit {proc.returncode}: {' '.join(argv)}")
    return first, time.perf_counter() - start, lines


def workspace(work: Path, size: int) -> Path:
    sys.path.insert(0, str(HERE / "bench"))
    from bench_index import workspace as build_workspace

    root = build_workspace(work, size)
    if not (root / ".agentctl" / ".bench-indexed").exists():
        os.environ["AGENTCTL_AUTOCOMMIT"] = "0"
        from agentctl.workspace import Workspace

        ws = Workspace(root)
        ws.reindex()
        ws.close()
        (root / ".agentctl" / ".bench-indexed").write_text("", encoding="utf-8")
    return root


def read_commands(root: Path) -> list[tuple[str, list[str]]]:
    from agentctl.workspace import Workspace

    ws = Workspace(root)
    show_id = ws.list_tasks(sort="id", limit=1)[0]["id"][:8]
    ws.close()
    return [
        ("task list --limit 50", ["task", "list", "--limit", "50"]),
        ("task show ID", ["task", "show", show_id]),
        ("task ready", ["task", "ready"]),
        ("inbox --as agent-1", ["--as", "agent-1", "inbox"]),
        ("search store", ["search", "store"]),
    ]


def startup(root: Path, floor: Path, env: dict[str, str], runs: int) -> str:
    exe = [sys.executable, "-m"]
    cases: list[tuple[str, list[str], str]] = [
        ("floor --help", [*exe, "trivialapp", "--help"], ""),
        ("floor hello", [*exe, "trivialapp", "hello"], ""),
        ("agentctl --help", [*exe, "agentctl", "--help"], "floor --help"),
    ]
    cases += [
        (label, [*exe, "agentctl", *args], "floor hello") for label, args in read_commands(root)
    ]
    times: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    cpus: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    for round_ in range(runs + 1):
        for label, argv, _ in cases:
            elapsed, _, cpu = run_timed(argv, root, env)
            if round_:
                times[label].append(elapsed)
                cpus[label].append(cpu)
    medians = {label: statistics.median(values) for label, values in times.items()}
    cpu_medians = {label: statistics.median(values) for label, values in cpus.items()}
    lines = [
        "| command | median ms | ratio to the floor | CPU ms | CPU ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, _, against in cases:
        ratio = f"{medians[label] / medians[against]:.2f}×" if against else "1.00× (floor)"
        cpu_ratio = f"{cpu_medians[label] / cpu_medians[against]:.2f}×" if against else "1.00×"
        lines.append(
            f"| `{label}` | {medians[label] * 1000:.1f} | {ratio} "
            f"| {cpu_medians[label] * 1000:.1f} | {cpu_ratio} |"
        )
        print(json.dumps({"command": label, "median_ms": round(medians[label] * 1000, 1),
                          "cpu_ms": round(cpu_medians[label] * 1000, 1)}),
              file=sys.stderr)  # fmt: skip
    return "\n".join(lines) + "\n"


NO_SCAN = (
    "import runpy, sys; from agentctl.store.index import Index; "
    "Index.refresh_records = lambda self, *a, **k: None; "
    "sys.argv = ['agentctl', *sys.argv[1:]]; runpy.run_module('agentctl', run_name='__main__')"
)


def memory(root: Path, env: dict[str, str], runs: int, no_scan: bool) -> str:
    exe = [sys.executable, "-c", NO_SCAN] if no_scan else [sys.executable, "-m", "agentctl"]
    cases = [(label, [*exe, *args]) for label, args in read_commands(root)]
    cases += [
        ("task list (all, plain)", [*exe, "task", "list", "--all"]),
        ("task list --json (all)", [*exe, "task", "list", "--all", "--json"]),
        ("stats --json", [*exe, "stats", "--json"]),
    ]
    lines = ["| command | median ms | peak RSS MiB |", "|---|---:|---:|"]
    for label, argv in cases:
        results = [run_once(argv, root, env, peak=True) for _ in range(runs + 1)][1:]
        median = statistics.median(r[0] for r in results) * 1000
        peak = max(r[1] for r in results) / 1024
        lines.append(f"| `{label}` | {median:.0f} | {peak:.1f} |")
        print(json.dumps({"command": label, "median_ms": round(median), "peak_mib": peak}),
              file=sys.stderr)  # fmt: skip
    streamed = [first_line([*exe, "task", "list", "--all"], root, env) for _ in range(runs + 1)][1:]
    first = statistics.median(s[0] for s in streamed) * 1000
    total = statistics.median(s[1] for s in streamed) * 1000
    lines.append(
        f"| `task list --all` to a pipe: first line / last line ({streamed[0][2]:,} lines) "
        f"| {first:.0f} / {total:.0f} | |"
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=None, help="1000 (100000 with --memory)")
    parser.add_argument("--runs", type=int, default=None, help="21 (3 with --memory)")
    parser.add_argument("--work", type=Path, default=None, help="keep workspaces here")
    parser.add_argument("--src", type=Path, default=HERE / "src", help="the agentctl to run")
    parser.add_argument("--memory", action="store_true", help="peak RSS and first-row time")
    parser.add_argument("--no-scan", action="store_true", help="leave out the freshness scan")
    args = parser.parse_args()
    size = args.tasks or (100_000 if args.memory else 1000)
    runs = args.runs or (3 if args.memory else 21)
    with tempfile.TemporaryDirectory(prefix="agentctl-startup-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        root = workspace(work, size)
        env = child_env(args.src.resolve(), floor_app(work))
        print(f"{size:,} tasks, {runs} runs, agentctl from {args.src}", file=sys.stderr)
        if args.memory:
            text = memory(root, env, runs, args.no_scan)
        else:
            text = startup(root, floor_app(work), env, runs)
    print(text)


if __name__ == "__main__":
    main()
