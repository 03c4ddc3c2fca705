"""Benchmark: what the write-ahead journal costs a mutation.

In one process, ``task add`` and ``task move`` run alternately with the real journal and with
its write replaced by a no-op (everything else identical), interleaved pair by pair so load
on the machine hits both alike, at 100 / 1,000 / 10,000 tasks, in a workspace without git
and in a git repository with auto-commit. Reports medians and their ratio; never pass/fail.

    python bench/bench_journal.py [--sizes 100 1000 10000] [--pairs 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import build  # noqa: E402

from agentctl.core.rules import Actor  # noqa: E402
from agentctl.store import journal  # noqa: E402
from agentctl.workspace import Workspace  # noqa: E402


class _NoEntry:
    """What the mutation path needs of an entry, with nothing written."""

    def __init__(self, commit: dict[str, object] | None) -> None:
        self.id = "none"
        self.file = None
        self.commit = commit
        self.paths: list[str] = []


def _measure(root: Path, pairs: int) -> tuple[float, float]:
    ws = Workspace(root)
    actor = Actor("bench")
    real_begin, real_finish = journal.begin, journal.finish

    def no_begin(*args: object, **kwargs: object) -> _NoEntry:
        return _NoEntry(args[6])  # type: ignore[arg-type]  # the commit spec

    with_journal: list[float] = []
    without: list[float] = []
    for i in range(pairs * 2):
        real = (i % 4) in (0, 3)  # ABBA order
        journal.begin = real_begin if real else no_begin  # type: ignore[assignment]
        journal.finish = real_finish if real else (lambda entry: None)  # type: ignore[assignment]
        start = time.perf_counter()
        task = ws.add_task(actor, f"bench {i}")
        ws.move_task(actor, task["id"], "in_progress")
        (with_journal if real else without).append(time.perf_counter() - start)
    journal.begin, journal.finish = real_begin, real_finish
    ws.close()
    return statistics.median(with_journal) * 1000 / 2, statistics.median(without) * 1000 / 2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--pairs", type=int, default=60)
    args = parser.parse_args()
    print("| tasks | auto-commit | mutation with journal (ms) | without (ms) | ratio |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        root = Path(tempfile.mkdtemp(prefix="bench-journal-")) / "ws"
        build(root, size)
        for use_git in (False, True):
            os.environ["AGENTCTL_AUTOCOMMIT"] = "1" if use_git else "0"
            with_ms, without_ms = _measure(root, args.pairs)
            print(
                f"| {size:,} | {'yes' if use_git else 'no'} | {with_ms:.1f} | {without_ms:.1f} | {with_ms / without_ms:.2f} |"
            )


if __name__ == "__main__":
    main()
