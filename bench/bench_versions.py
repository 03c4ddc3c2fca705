"""Benchmark: the same commands on two versions of agentctl, interleaved, as ratios.

    python bench/bench_versions.py --base REV [--sizes 100 1000 10000] [--runs 9] [--out FILE]

REV (a commit, e.g. the one before a refactoring) is checked out into a temporary git worktree;
the other side is this checkout. Each version builds its own workspace of each size with its
own ``bench/bench_cli.py`` (formats and the index schema may differ between versions), then
every command runs as a fresh process, alternating base and head run by run (the order of each
pair alternates too), so load on a shared machine falls on both alike. One untimed run of each
warms the index and the page cache. Reported: the median of each side and head / base.
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

HERE = Path(__file__).resolve().parent.parent

BUILD = """
import json, sys
from pathlib import Path
from bench_cli import build
from agentctl.workspace import Workspace
root = Path(sys.argv[1])
ids = build(root, int(sys.argv[2]))
ws = Workspace(root)
movable = ws.list_tasks(statuses=["in_progress"])[0]["id"]
ws.close()
print(json.dumps({"show": ids[len(ids) // 2][:8], "movable": movable}))
"""


def env_for(source: Path, autocommit: str | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "AGENTCTL_WORKSPACE", "AGENTCTL_AGENT")
    }
    env["PYTHONPATH"] = f"{source / 'src'}{os.pathsep}{source / 'bench'}"
    if autocommit is not None:
        env["AGENTCTL_AUTOCOMMIT"] = autocommit
    return env


def run_once(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"exit {proc.returncode}: {' '.join(argv)}\n{proc.stderr.decode()[-400:]}")
    return elapsed


Argv = Callable[[int], list[str]]


def commands(exe: list[str], info: dict[str, str]) -> list[tuple[str, Argv, str | None]]:
    moves = ["review", "in_progress"]
    return [
        ("agentctl --help", lambda _: [*exe, "--help"], None),
        ("task list --json", lambda _: [*exe, "task", "list", "--json"], None),
        ("task list (plain, piped)", lambda _: [*exe, "task", "list"], None),
        ("task show", lambda _: [*exe, "task", "show", info["show"]], None),
        ("task ready", lambda _: [*exe, "task", "ready"], None),
        ("task add (no commit)", lambda _: [*exe, "task", "add", "benchmark task"], "0"),
        ("task move (no commit)", lambda i: [*exe, "task", "move", info["movable"], moves[i % 2]], "0"),
        ("task add (git commit)", lambda _: [*exe, "task", "add", "benchmark task"], "1"),
        ("task move (git commit)", lambda i: [*exe, "task", "move", info["movable"], moves[i % 2]], "1"),
    ]  # fmt: skip


def bench_size(n: int, runs: int, sides: dict[str, Path], tmp: Path) -> list[dict[str, object]]:
    exe = [sys.executable, "-m", "agentctl"]
    roots: dict[str, Path] = {}
    infos: dict[str, dict[str, str]] = {}
    for side, source in sides.items():
        roots[side] = tmp / f"{side}-{n}"
        out = subprocess.run(
            [sys.executable, "-c", BUILD, str(roots[side]), str(n)],
            env=env_for(source), check=True, capture_output=True, text=True,
        )  # fmt: skip
        infos[side] = json.loads(out.stdout.strip().splitlines()[-1])
    rows = []
    names = [name for name, _, _ in commands(exe, infos["base"])]
    for position, name in enumerate(names):
        times: dict[str, list[float]] = {side: [] for side in sides}
        for i in range(runs + 1):
            order = list(sides) if i % 2 == 0 else list(reversed(sides))
            for side in order:
                _, argv, autocommit = commands(exe, infos[side])[position]
                elapsed = run_once(argv(i), roots[side], env_for(sides[side], autocommit))
                if i:  # the first run of each warms the index and the page cache
                    times[side].append(elapsed)
        base = statistics.median(times["base"]) * 1000
        head = statistics.median(times["head"]) * 1000
        row = {"tasks": n, "command": name, "base_ms": round(base, 1), "head_ms": round(head, 1),
               "ratio": round(head / base, 2)}  # fmt: skip
        print(json.dumps(row), file=sys.stderr)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rev = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", args.base],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    head = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="agentctl-versions-") as name:
        tmp = Path(name)
        checkout = tmp / "base-src"
        subprocess.run(
            ["git", "-C", str(HERE), "worktree", "add", "-q", "--detach", str(checkout), rev],
            check=True,
        )
        try:
            sides = {"base": checkout, "head": HERE}
            rows = [row for n in args.sizes for row in bench_size(n, args.runs, sides, tmp)]
        finally:
            subprocess.run(
                ["git", "-C", str(HERE), "worktree", "remove", "--force", str(checkout)],
                check=False,
            )
    lines = [
        f"base {rev}, head {head} (and its working tree); medians of {args.runs} runs each, "
        "interleaved; ratio = head / base",
        "",
        "| command | "
        + " | ".join(f"{n:,} tasks: base / head ms (ratio)" for n in args.sizes)
        + " |",
        "|---|" + "---:|" * len(args.sizes),
    ]
    for name in dict.fromkeys(str(r["command"]) for r in rows):
        cells = [
            f"{r['base_ms']} / {r['head_ms']} ({r['ratio']}×)"
            for n in args.sizes
            for r in rows
            if r["command"] == name and r["tasks"] == n
        ]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
