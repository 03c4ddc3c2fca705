"""Benchmark: an auto-commit in a repository of 100 vs 100,000 unrelated tracked files.

    python bench/bench_commit.py [--base REV] [--files 100 100000] [--runs 9] [--out FILE]

Each repository holds ``--files`` unrelated source files (``src/pkgNNN/modN/fNNNNN.py``, some
executable, written with one ``git fast-import`` and checked out) and an agentctl workspace;
they are built once and cached under ``$TMPDIR/agentctl-bench-commit/`` (100,000 files: about
a minute). Measured, interleaved run by run so a loaded machine's load falls on every side
alike, medians of ``--runs``:

- ``agentctl task add`` as a fresh process (a mutation with its auto-commit);
- ``Repo.commit_paths`` of one changed file, in process (just the commit).

With ``--base REV``, the same commands also run with agentctl at REV (a temporary git worktree
of this repository), on the same repositories; without it, only this checkout is measured.
Reported: the medians and the ratio of the large repository to the small one, per version.
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
CACHE = Path(tempfile.gettempdir()) / "agentctl-bench-commit"

# Times `rounds` commits of one file, after one untimed commit; prints the seconds as JSON.
COMMIT = """
import json, sys, time
from pathlib import Path
from agentctl.vcs import find_repo
root, rounds, tag = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
repo = find_repo(root)
probe = root / "notes" / "probe.md"
probe.parent.mkdir(exist_ok=True)
times = []
for i in range(rounds + 1):
    probe.write_text(f"{tag} {i} {time.time_ns()}\\n")
    start = time.perf_counter()
    assert repo.commit_paths([probe], f"probe {tag} {i}") is not None
    if i:
        times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True
    ).stdout.decode()


def fast_import_stream(files: int) -> bytes:
    """One commit of ``files`` small Python files, every 97th executable."""
    out = [b"commit refs/heads/main\ncommitter Bench <bench@example.com> 1700000000 +0000\n"]
    out.append(b"data 11\nsource tree\n")
    for i in range(files):
        path = f"src/pkg{i // 1000:03d}/mod{(i // 100) % 10}/f{i:06d}.py".encode()
        body = f"# generated file {i}\nVALUE = {i}\n".encode()
        mode = b"100755" if i % 97 == 0 else b"100644"
        out.append(b"M %s inline %s\ndata %d\n%s\n" % (mode, path, len(body), body))
    return b"".join(out) + b"\n"


def repository(files: int, source: Path) -> Path:
    """The cached repository of ``files`` files with a workspace (built once)."""
    root = CACHE / f"repo-{files}"
    if (root / ".agentctl").is_dir() and (root / ".git").is_dir():
        return root
    if root.exists():
        subprocess.run(["rm", "-rf", str(root)], check=True)
    root.mkdir(parents=True)
    start = time.perf_counter()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Bench")
    git(root, "config", "user.email", "bench@example.com")
    git(root, "fast-import", "--quiet", stdin=fast_import_stream(files))
    git(root, "reset", "-q", "--hard", "main")
    env = {**env_for(source), "AGENTCTL_AUTOCOMMIT": "1"}
    subprocess.run(
        [sys.executable, "-m", "agentctl", "init"], cwd=root, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    print(f"built {root} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return root


def env_for(source: Path) -> dict[str, str]:
    """The environment of a run of ``source``'s agentctl: its own bytecode is written on the
    first (untimed) run, so no version pays for compiling its modules on every run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AGENTCTL_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PYTHONPATH"] = str(source / "src")
    return env


def task_add(root: Path, source: Path) -> float:
    env = env_for(source)
    env["AGENTCTL_AUTOCOMMIT"] = "1"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "agentctl", "task", "add", "benchmark task"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"task add failed in {root}: {proc.stderr.decode()[-400:]}")
    return elapsed


def commit_paths(root: Path, source: Path, rounds: int, tag: str) -> list[float]:
    env = env_for(source)
    out = subprocess.run(
        [sys.executable, "-c", COMMIT, str(root), str(rounds), tag],
        env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return [float(t) for t in json.loads(out)]


def measure(
    sides: dict[str, Path], sizes: list[int], runs: int
) -> dict[tuple[str, str, int], list[float]]:
    roots = {n: repository(n, sides["head"]) for n in sizes}
    times: dict[tuple[str, str, int], list[float]] = {}
    for i in range(runs + 1):
        order = list(sides) if i % 2 == 0 else list(reversed(sides))
        for side in order:
            for n in sizes if i % 2 == 0 else list(reversed(sizes)):
                elapsed = task_add(roots[n], sides[side])
                commits = commit_paths(roots[n], sides[side], 3, f"{side}-{i}")
                if i:  # the first round warms the page cache and the index
                    times.setdefault(("task add", side, n), []).append(elapsed)
                    times.setdefault(("commit_paths", side, n), []).extend(commits)
        print(f"round {i} done", file=sys.stderr)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=None, help="also measure agentctl at this commit")
    parser.add_argument("--files", type=int, nargs=2, default=[100, 100_000])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    small, large = args.files
    head = git(HERE, "rev-parse", "--short", "HEAD").strip()
    with tempfile.TemporaryDirectory(prefix="agentctl-bench-commit-") as name:
        sides = {"head": HERE}
        if args.base:
            checkout = Path(name) / "base-src"
            git(HERE, "worktree", "add", "-q", "--detach", str(checkout), args.base)
            sides = {"base": checkout, "head": HERE}
        try:
            times = measure(sides, [small, large], args.runs)
        finally:
            if args.base:
                subprocess.run(
                    ["git", "-C", str(HERE), "worktree", "remove", "--force", str(checkout)],
                    check=False,
                )
    labels = {"head": f"this checkout ({head} + working tree)", "base": f"base {args.base}"}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"{args.runs} runs, interleaved (commit_paths: 3 commits a run); medians in ms; "
        f"load average {load:.1f} at the end",
        "",
        f"| measure | version | {small:,} files | {large:,} files | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    for measure_name in ("task add", "commit_paths"):
        for side in sides:
            a = statistics.median(times[(measure_name, side, small)]) * 1000
            b = statistics.median(times[(measure_name, side, large)]) * 1000
            lines.append(
                f"| `{measure_name}` | {labels[side]} | {a:.1f} | {b:.1f} | {b / a:.2f}× |"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
