"""Benchmark: the ready query with the parent chain (``Index.ready``) against the same query
that looks only at each task's own dependencies (the rule before sections held their parts).

Synthetic indexes of 100 / 1,000 / 10,000 tasks, flat and as a tree (every task under the
task ten places up, so a tenth of the tasks are parents and the tree is four levels deep), 45 %
done, half with up to two dependencies on earlier tasks. The two queries alternate in one
process, medians of ``--runs``; the ratio is what the parent chain costs.

    python bench/bench_ready.py [--sizes 100 1000 10000] [--runs 15]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from agentctl.paths import Layout
from agentctl.store.index import _SELECT_TASK_JSON, Index, _decode_rows

READY, DONE = ["inbox", "assigned"], ["done"]
OWN_ONLY = (
    _SELECT_TASK_JSON + " WHERE status IN (?, ?) AND NOT EXISTS ("
    " SELECT 1 FROM json_each(tasks.depends_on) AS dep LEFT JOIN tasks AS other ON other.id = dep.value"
    " WHERE other.id IS NULL OR other.status NOT IN (?)) ORDER BY priority, created_at, id"
)


def build(size: int, tree: bool, seed: int = 1) -> Index:
    rng = random.Random(seed)
    index = Index(Layout(Path(tempfile.mkdtemp(prefix="bench-ready-"))))
    ids = [f"t-{n:012d}" for n in range(size)]
    with index.db:
        for n, task_id in enumerate(ids):
            deps = rng.sample(ids[:n], min(2, n)) if n and rng.random() < 0.5 else []
            status = (
                "done" if rng.random() < 0.45 else rng.choice(["inbox", "assigned", "in_progress"])
            )
            index.store_task(
                f"tasks/{task_id}.md",
                {
                    "id": task_id, "title": task_id, "status": status, "priority": rng.randint(0, 3),
                    "assignees": [], "labels": [], "parent": ids[n // 10] if tree and n >= 10 else None,
                    "depends_on": deps, "created_by": "bench", "created_at": "2026-01-01T00:00:00Z",
                    "updated_at": "2026-01-01T00:00:00Z",
                },
            )  # fmt: skip
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(
        "| tasks | shape | own dependencies only (ms) | with the parent chain (ms) | ratio | ready (own / chain) |"
    )
    print("|---:|---|---:|---:|---:|---|")
    for size in args.sizes:
        for tree in (False, True):
            index = build(size, tree)
            own: list[float] = []
            chain: list[float] = []
            for _ in range(args.runs):
                start = time.perf_counter()
                plain = _decode_rows(index.db.execute(OWN_ONLY, [*READY, *DONE]))
                own.append(time.perf_counter() - start)
                start = time.perf_counter()
                ready = index.ready(READY, DONE)
                chain.append(time.perf_counter() - start)
            a, b = statistics.median(own) * 1000, statistics.median(chain) * 1000
            shape = "tree" if tree else "flat"
            print(
                f"| {size:,} | {shape} | {a:.1f} | {b:.1f} | {b / a:.2f} | {len(plain)} / {len(ready)} |"
            )
            index.close()


if __name__ == "__main__":
    main()
