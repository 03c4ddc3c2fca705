"""Benchmark: importing a generated Taskwarrior export of 10,000 tasks, as a whole process,
including the one git commit. Target (issue 14): at most 10 s on the project's 2-core machine.

The export has Taskwarrior's shape (``task export`` 2.6: uuid, description, status, entry,
modified, priority, project, tags, due, depends, annotations on some). Each run imports into
a fresh copy of a committed git workspace (the copy is not timed). Runs are interleaved round
by round with two baselines in the same process, so load on the machine hits all alike:
``import roadmap`` of a roadmap with the same number of items (the existing bulk import) and
one ``task add`` with its commit (one mutation). Reports medians and ratios; never pass/fail.

    python bench/bench_import.py [--tasks 10000] [--runs 5] [--out bench/results/import.md]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_roadmap import roadmap, run  # noqa: E402


def taskwarrior_export(count: int) -> str:
    """``count`` tasks: a fifth completed, one in ten started, priorities H/M/L/none, a tag or
    two, a project per fifty, a due date on one in seven, a dependency on the previous task
    for one in three, an annotation on one in twenty."""
    ids = [str(uuid.UUID(int=n + 1, version=4)) for n in range(count)]
    lines = []
    for n, task_uuid in enumerate(ids):
        record: dict[str, object] = {
            "id": n + 1, "description": f"Generated task {n} of the benchmark",
            "entry": "20261201T100000Z", "modified": "20261202T100000Z",
            "status": "completed" if n % 5 == 4 else "pending", "uuid": task_uuid,
            "tags": ["bench"] + (["backend"] if n % 2 else []), "project": f"area{n // 50}",
            "urgency": 1.0,
        }  # fmt: skip
        if n % 4:
            record["priority"] = "HML"[n % 3]
        if n % 10 == 1:
            record["start"] = "20261203T100000Z"
        if n % 7 == 0:
            record["due"] = "20261231T000000Z"
        if n % 3 == 2:
            record["depends"] = [ids[n - 1]]
        if n % 20 == 3:
            record["annotations"] = [{"entry": "20261202T110000Z", "description": f"note {n}"}]
        lines.append(json.dumps(record))
    return "[\n" + ",\n".join(lines) + "\n]\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    exe = [sys.executable, "-m", "agentctl"]
    skip = (
        "PYTHONDONTWRITEBYTECODE",
        "AGENTCTL_WORKSPACE",
        "AGENTCTL_AGENT",
        "AGENTCTL_AUTOCOMMIT",
    )
    env = {k: v for k, v in os.environ.items() if k not in skip}
    with tempfile.TemporaryDirectory(prefix="agentctl-bench-import-") as tmp:
        base = Path(tmp)
        export = base / "export.json"
        export.write_text(taskwarrior_export(args.tasks), encoding="utf-8")
        plan = base / "roadmap.md"
        plan.write_text(roadmap(args.tasks), encoding="utf-8")
        template = base / "template"
        template.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main", str(template)], check=True)
        for key, value in (("user.name", "bench"), ("user.email", "bench@example.invalid")):
            subprocess.run(["git", "-C", str(template), "config", key, value], check=True)
        run([*exe, "init"], template, env)
        times: dict[str, list[float]] = {"taskwarrior": [], "roadmap": [], "add": []}
        cpu: dict[str, list[float]] = {"taskwarrior": [], "roadmap": [], "add": []}
        loads: list[float] = []
        for i in range(args.runs + 1):
            for label, argv in (
                ("taskwarrior", [*exe, "import", "taskwarrior", str(export)]),
                ("roadmap", [*exe, "import", "roadmap", str(plan)]),
                ("add", [*exe, "task", "add", "one more task"]),
            ):
                target = base / f"ws-{i}-{label}"
                shutil.copytree(template, target, symlinks=True)
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                elapsed = run(argv, target, env)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                # CPU (user + sys) of the command and its git processes: what load does not add.
                used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                loads.append(os.getloadavg()[0])
                if i:  # the first round warms the page cache and bytecode
                    times[label].append(elapsed)
                    cpu[label].append(used)
                print(f"round {i} {label}: {elapsed:.2f} s, {used:.2f} s CPU", file=sys.stderr)
                commits = subprocess.run(["git", "-C", str(target), "rev-list", "--count", "HEAD"],
                                         capture_output=True, text=True, check=True)  # fmt: skip
                assert commits.stdout.strip() == "2", commits.stdout  # init, then the one commit
                shutil.rmtree(target)
        tw, rm, add = (statistics.median(times[k]) for k in ("taskwarrior", "roadmap", "add"))
        lines = [
            f"| {args.tasks:,} tasks, median of {args.runs} | median s | min s | max s | CPU s |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {name} | {statistics.median(times[key]):.2f} | {min(times[key]):.2f} "
                f"| {max(times[key]):.2f} | {statistics.median(cpu[key]):.2f} |"
                for key, name in (
                    ("taskwarrior", "`import taskwarrior` (one commit)"),
                    (
                        "roadmap",
                        f"`import roadmap`, {args.tasks:,} items (baseline: the existing bulk import)",
                    ),
                    ("add", "`task add` (baseline: one mutation and commit)"),
                )
            ),
            "",
            f"import taskwarrior / import roadmap: {tw / rm:.2f}; / one task add: {tw / add:.1f} "
            f"({tw / args.tasks * 1000:.2f} ms per task); target 10 s. "
            f"Load average (1 min) {min(loads):.1f}-{max(loads):.1f}; CPU: user + sys of "
            "the command and its git processes (median).",
        ]
        text = "\n".join(lines) + "\n"
        print(text)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
