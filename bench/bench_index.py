"""Benchmark (issue 15): cold ``agentctl reindex`` in task files per second, before and after.

    python bench/bench_index.py [--base REV] [--sizes 1000 10000 100000] [--runs 3]
                                [--work DIR] [--out bench/results/index.md]

The base revision's ``src/`` is exported with ``git archive`` into a temporary directory; the
head is this checkout. Workspaces are built once with ``bench/bench_cli.py``'s ``build`` (10,000
tasks at most; larger sizes copy those task files under new IDs, which is minutes faster)
and reused from ``--work``. Each run is a fresh ``python -m agentctl reindex`` process (it
deletes the index and rebuilds it), alternating base and head run by run so load on a shared
machine falls on both alike; the in-process time of ``Workspace.reindex()`` is measured too
(the same command without interpreter start-up). Reported: medians, and task files per second.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
INPROC = (
    "import sys, time, json; from pathlib import Path; from agentctl.workspace import Workspace\n"
    "ws = Workspace(Path(sys.argv[1])); t = time.perf_counter(); r = ws.reindex()\n"
    "print(json.dumps({'s': time.perf_counter() - t, 'tasks': r['tasks']}))"
)
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def workspace(work: Path, size: int) -> Path:
    root = work / f"w{size}"
    if (root / ".agentctl").exists():
        return root
    sys.path.insert(0, str(HERE / "bench"))
    from bench_cli import build

    if size <= 10_000:
        build(root, size)
        return root
    seed = workspace(work, 10_000)
    shutil.copytree(seed, root, symlinks=True)
    tasks = root / ".agentctl" / "tasks"
    sources = sorted(tasks.glob("*.md"))
    rng = random.Random(size)
    for n in range(size - len(sources)):
        source = sources[n % len(sources)]
        old = source.stem
        new = "t-" + "".join(rng.choice(ALPHABET) for _ in range(12))
        text = source.read_text(encoding="utf-8").replace(f"id: {old}\n", f"id: {new}\n", 1)
        (tasks / f"{new}.md").write_text(text, encoding="utf-8")
    return root


def run(src: Path, root: Path, inproc: bool) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": str(src), "AGENTCTL_AUTOCOMMIT": "0"}
    if inproc:
        out = subprocess.run([sys.executable, "-c", INPROC, str(root)], env=env, check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
        data = json.loads(out)
        return float(data["s"]), int(data["tasks"])
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "agentctl", "reindex", "--json"], cwd=root,
                          env=env, check=True, capture_output=True, text=True)  # fmt: skip
    return time.perf_counter() - start, int(json.loads(proc.stdout)["tasks"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--measure", choices=["both", "process", "inproc"], default="both")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-index-"))
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-index-base-") as tmp:
        archive = subprocess.run(["git", "-C", str(HERE), "archive", args.base, "src"],
                                 check=True, capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        sides = {"base": Path(tmp) / "src", "head": HERE / "src"}
        rows = []
        for size in args.sizes:
            root = workspace(work, size)
            measures = {"both": (False, True), "process": (False,), "inproc": (True,)}
            for inproc in measures[args.measure]:
                times: dict[str, list[float]] = {"base": [], "head": []}
                tasks = 0
                for i in range(args.runs):
                    order = ("base", "head") if i % 2 == 0 else ("head", "base")
                    for side in order:
                        seconds, tasks = run(sides[side], root, inproc)
                        times[side].append(seconds)
                base = statistics.median(times["base"])
                head = statistics.median(times["head"])
                row = {"tasks": tasks, "measure": "reindex() in process" if inproc else "whole process",
                       "base_s": round(base, 3), "head_s": round(head, 3),
                       "base_files_s": round(tasks / base), "head_files_s": round(tasks / head),
                       "speed_up": round(base / head, 1)}  # fmt: skip
                print(json.dumps(row), flush=True)
                rows.append(row)
    lines = [
        f"# Cold `agentctl reindex`: {args.base} (base) vs this checkout (head)",
        "",
        f"Median of {args.runs} runs each, interleaved; {os.cpu_count()} CPUs (shared).",
        "",
        "| tasks | measure | base s | head s | base files/s | head files/s | speed-up |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['tasks']:,} | {r['measure']} | {r['base_s']} | {r['head_s']} | "
            f"{r['base_files_s']:,} | {r['head_files_s']:,} | {r['speed_up']}x |"
        )
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
