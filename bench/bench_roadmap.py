"""Benchmark: importing a generated roadmap of 1,000 items, as a whole process, including the
one git commit. Target (issue 10): at most 3 s on the project's 2-core machine.

Each run imports into a fresh copy of a committed git workspace (the copy is not timed).
Runs are interleaved with two baselines in the same process, pair by pair, so load on the
machine hits all three alike: ``import --dry-run`` of the same roadmap (reading and planning,
no writes) and one ``task add`` with its commit (one mutation). Reports medians and ratios;
never pass/fail.

    python bench/bench_roadmap.py [--items 1000] [--runs 7] [--out bench/results/roadmap.md]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def roadmap(items: int) -> str:
    """A roadmap of ``items`` items: phases of numbered sections with estimates, agent types,
    dependencies on the previous section and acceptance criteria, each with ten tasks."""
    out = ["# Generated roadmap", "", "Benchmark input.", ""]
    count, phase = 1, 0  # the title heading is an item too
    while count < items:
        out += [f"## Phase {phase}: Part {phase}", ""]
        count += 1
        if count >= items:
            break
        for section in range(1, 10):
            if count >= items:
                break
            out += [
                f"### {phase}.{section} Section {phase}.{section}",
                f"**Estimated Time:** {section + 1}-{section + 3} hours",
                f"**Dependencies:** {phase}.{section - 1}" if section > 1 else (f"**Dependencies:** Phase {phase - 1}" if phase else "**Dependencies:** None"),
                "**Agent Type:** Backend Developer", "", "**Tasks:**",
            ]  # fmt: skip
            count += 1
            tasks = max(0, min(10, items - count))
            out += [f"- [ ] Do thing {k} of {phase}.{section} ({k % 4 + 1}h)" for k in range(tasks)]
            count += tasks
            out += ["", "**Acceptance Criteria:**", "- it works", "- it is tested", ""]
        phase += 1
    return "\n".join(out) + "\n"


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"exit {proc.returncode}: {' '.join(argv)}\n{proc.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    exe = [sys.executable, "-m", "agentctl"]
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "PYTHONDONTWRITEBYTECODE",
            "AGENTCTL_WORKSPACE",
            "AGENTCTL_AGENT",
            "AGENTCTL_AUTOCOMMIT",
        )
    }
    with tempfile.TemporaryDirectory(prefix="agentctl-bench-roadmap-") as tmp:
        base = Path(tmp)
        plan = base / "roadmap.md"
        plan.write_text(roadmap(args.items), encoding="utf-8")
        template = base / "template"
        template.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main", str(template)], check=True)
        for key, value in (("user.name", "bench"), ("user.email", "bench@example.invalid")):
            subprocess.run(["git", "-C", str(template), "config", key, value], check=True)
        run([*exe, "init"], template, env)
        imports: list[float] = []
        dry_runs: list[float] = []
        adds: list[float] = []
        for i in range(args.runs + 1):
            target = base / f"ws-{i}"
            shutil.copytree(template, target, symlinks=True)
            for label, argv, times in (
                ("import", [*exe, "import", "roadmap", str(plan)], imports),
                ("dry run", [*exe, "import", "roadmap", str(plan), "--dry-run"], dry_runs),
                ("task add", [*exe, "task", "add", "one more task"], adds),
            ):
                elapsed = run(argv, target, env)
                if i:  # the first round warms the page cache and bytecode
                    times.append(elapsed)
                print(f"round {i} {label}: {elapsed:.2f} s", file=sys.stderr)
            commits = subprocess.run(
                ["git", "-C", str(target), "rev-list", "--count", "HEAD"],
                capture_output=True,
                text=True,
                check=True,
            )
            assert commits.stdout.strip() == "3", commits.stdout  # init, the import, the task add
            shutil.rmtree(target)
        imp, dry, add = (statistics.median(t) for t in (imports, dry_runs, adds))
        lines = [
            f"| {args.items:,}-item roadmap | median s |",
            "|---|---:|",
            f"| `import roadmap` (one commit) | {imp:.2f} |",
            f"| `import roadmap --dry-run` (baseline: read and plan) | {dry:.2f} |",
            f"| `task add` (baseline: one mutation and commit) | {add:.2f} |",
            "",
            f"Import / dry run: {imp / dry:.2f}; import / one task add: {imp / add:.1f} "
            f"(per item {imp / args.items * 1000:.1f} ms, against {add * 1000:.0f} ms for one task add); target 3 s.",
        ]
        text = "\n".join(lines) + "\n"
        print(text)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
