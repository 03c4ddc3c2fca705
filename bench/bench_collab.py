"""Benchmark: whole-process wall time of the collaboration commands (search, inbox, thread,
feed, task comment) with 100 / 1,000 / 10,000 tasks and five messages per task. Reports
medians over repeated runs; never a pass/fail timing.

    python bench/bench_collab.py [--sizes 100 1000 10000] [--runs 9] [--out bench/results/collab.md]

Workspaces are generated directly as files: tasks by ``bench_cli.build``, then messages in
the format ``task comment`` writes, each with its ``message.added`` event (mentions and the
thread's subscribers in its notify list, so every agent's inbox holds thousands of
notifications) and read-state lines for about half of them; then one reindex, a warm-up of
the thread index, and one commit of everything. Each command runs as a fresh process (the
way agents call it) against a warm index.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import AGENTS, build  # noqa: E402

from agentctl.core import ids  # noqa: E402
from agentctl.core.mentions import excerpt  # noqa: E402
from agentctl.store import events as eventlog  # noqa: E402
from agentctl.store.frontmatter import Document  # noqa: E402
from agentctl.workspace import Workspace  # noqa: E402

WORDS = (
    "parser index cache schema latency merge review deploy token budget queue worker lease "
    "retry backoff shard replica commit branch rebase config metric trace span alert"
).split()
RARE = "kingfisher"  # in about one message in a hundred: the search term
KINDS = ["comment"] * 6 + ["question", "answer", "review", "status_update"]
MESSAGES_PER_TASK = 5


def _message_text(fields: dict[str, object], body: str) -> str:
    mentions = fields["mentions"]
    assert isinstance(mentions, list)
    return (
        f"---\nid: {fields['id']}\ntask: {fields['task']}\nauthor: {fields['author']}\n"
        f"created_at: '{fields['created_at']}'\nkind: {fields['kind']}\n"
        f"mentions: [{', '.join(mentions)}]\n---\n{body}"
    )


def add_messages(
    root: Path, task_ids: list[str], per_task: int, seed: int = 11
) -> dict[str, object]:
    """Write ``per_task`` messages per task (files + events + read-state); returns facts."""
    rng = random.Random(seed)
    layout = Workspace(root).layout
    start = datetime(2026, 11, 1, tzinfo=UTC)
    span = timedelta(days=20).total_seconds()
    n_messages = per_task * len(task_ids)
    subscribers: dict[str, set[str]] = {}
    days: dict[str, list[str]] = {}
    read: dict[str, list[str]] = {a: [] for a in AGENTS}
    first_checked = False
    moments = sorted(rng.random() * span for _ in range(n_messages))
    for i, offset in enumerate(moments):
        task_id = task_ids[rng.randrange(len(task_ids))]
        moment = start + timedelta(seconds=offset, microseconds=i % 1000 * 1000)
        author = rng.choice(AGENTS)
        mentioned = sorted(set(rng.sample(AGENTS, k=rng.choice([0, 1, 1, 2]))) - {author})
        words = rng.choices(WORDS, k=rng.randint(8, 40))
        if rng.random() < 0.01:
            words.insert(rng.randrange(len(words)), RARE)
        body = (
            " ".join(f"@{m}" for m in mentioned)
            + (" " if mentioned else "")
            + " ".join(words)
            + ".\n"
        )
        message_id = ids.new_id(ids.MESSAGE)
        created = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        fields: dict[str, object] = {
            "id": message_id, "task": task_id, "author": author, "created_at": created,
            "kind": rng.choice(KINDS), "mentions": mentioned,
        }  # fmt: skip
        text = _message_text(fields, body)
        if not first_checked:  # the hand-written format is exactly what `task comment` writes
            assert text == Document.new(fields, body).dumps(), text
            first_checked = True
        stamp = moment.strftime("%Y%m%dT%H%M%S") + f"{moment.microsecond // 1000:03d}Z"
        directory = layout.threads / task_id
        directory.mkdir(exist_ok=True)
        (directory / f"{stamp}-{message_id}.md").write_text(text, encoding="utf-8")
        subs = subscribers.setdefault(task_id, set())
        why = {name: "mention" for name in mentioned}
        why.update({name: "subscribed" for name in subs if name not in why})
        why.pop(author, None)
        event = eventlog.make_event(
            author,
            "message.added",
            task_id,
            {"title": f"task {task_id}", "message": message_id, "kind": fields["kind"], "mentions": mentioned,
             "excerpt": excerpt(body), "why": dict(sorted(why.items()))},
            sorted(why),
            ts=moment,
        )  # fmt: skip
        days.setdefault(event["ts"][:10], []).append(eventlog.encode(event))
        subs.add(author)
        subs.update(mentioned)
        for name in why:
            if rng.random() < 0.5:
                read[name].append(event["id"])
    for day, lines in days.items():
        with open(layout.events / f"{day}.jsonl", "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    layout.inbox.mkdir(exist_ok=True)
    for name, event_ids in read.items():
        chunks = [event_ids[i : i + 200] for i in range(0, len(event_ids), 200)]
        stamp = (
            (start + timedelta(days=21)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )
        with open(layout.inbox_file(name), "a", encoding="utf-8") as handle:
            handle.write(
                "".join(
                    json.dumps({"ts": stamp, "read": chunk}, separators=(",", ":")) + "\n"
                    for chunk in chunks
                )
            )
    busiest = max(subscribers, key=lambda t: len(list((layout.threads / t).iterdir())))
    return {"messages": n_messages, "busiest": busiest}


def prepare(root: Path, n_tasks: int) -> dict[str, object]:
    task_ids = build(root, n_tasks)
    facts = add_messages(root, task_ids, MESSAGES_PER_TASK)
    ws = Workspace(root)
    ws.reindex()
    ws.index.refresh_threads()  # `reindex` leaves messages to their first reader
    ws.working_text()
    agent = AGENTS[3]
    facts["unread"] = ws.index.unread_counts().get(agent, 0)
    facts["notifications"] = len(ws.index.notification_ids(agent))
    facts["agent"] = agent
    facts["typical"] = task_ids[len(task_ids) // 2]
    ws.close()
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "bench messages"], check=True)
    return facts


TIME = shutil.which("time", path="/usr/bin:/bin")


def run_once(
    argv: list[str], cwd: Path, env: dict[str, str], scratch: Path
) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MiB, exit code) of one whole process.

    CPU time (user + system) is reported next to wall time because it hardly depends on what
    else the machine is running. The peak comes from GNU time, whose own small process forks
    the command: a child forked straight from this (large) benchmark process would report this
    process's RSS as its own peak.
    """
    wrapped = [TIME, "-f", "%U %S %M", "-o", str(scratch), *argv] if TIME else argv
    start = time.perf_counter()
    proc = subprocess.run(
        wrapped, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if not TIME:
        return elapsed, float("nan"), float("nan"), proc.returncode
    user, system, peak = scratch.read_text().split()[-3:]
    return elapsed, float(user) + float(system), float(peak) / 1024, proc.returncode


def measure(
    label: str, argv: list[str], cwd: Path, env: dict[str, str], runs: int
) -> dict[str, object]:
    times, cpus, peaks = [], [], []
    scratch = cwd.parent / "time.out"
    for i in range(runs + 1):
        elapsed, cpu, peak, code = run_once(argv, cwd, env, scratch)
        if code != 0:
            raise SystemExit(f"{label}: exit {code}: {' '.join(argv)}")
        if i:  # the first run warms the index and the page cache
            times.append(elapsed)
            cpus.append(cpu)
            peaks.append(peak)
    return {
        "command": label,
        "median_ms": round(statistics.median(times) * 1000, 1),
        "cpu_ms": round(statistics.median(cpus) * 1000),
        "peak_mib": round(max(peaks), 1),
    }


def bench_size(n: int, runs: int, base: Path) -> tuple[list[dict[str, object]], dict[str, object]]:
    root = base / f"ws-{n}"
    facts = prepare(root, n)
    exe = [sys.executable, "-m", "agentctl"]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "AGENTCTL_WORKSPACE", "AGENTCTL_AGENT")
    }
    agent, typical, busiest = str(facts["agent"]), str(facts["typical"]), str(facts["busiest"])
    results = [
        measure("agentctl --help (start-up floor)", [*exe, "--help"], root, env, runs),
        measure(f"search {RARE}", [*exe, "search", RARE], root, env, runs),
        measure(
            'search "merge rebase" --json',
            [*exe, "search", '"merge rebase"', "--json"],
            root,
            env,
            runs,
        ),
        measure("inbox --as AGENT (all unread)", [*exe, "--as", agent, "inbox"], root, env, runs),
        measure(
            "inbox --as AGENT --limit 20",
            [*exe, "--as", agent, "inbox", "--limit", "20"],
            root,
            env,
            runs,
        ),
        measure("thread TASK (typical)", [*exe, "thread", typical], root, env, runs),
        measure("thread TASK (busiest)", [*exe, "thread", busiest], root, env, runs),
        measure("feed --limit 50", [*exe, "feed", "--limit", "50"], root, env, runs),
    ]
    for autocommit in ("0", "1"):
        env_mut = {**env, "AGENTCTL_AUTOCOMMIT": autocommit}
        suffix = " (git commit)" if autocommit == "1" else " (no commit)"
        results.append(
            measure(
                "task comment" + suffix,
                [
                    *exe,
                    "--as",
                    AGENTS[1],
                    "task",
                    "comment",
                    typical,
                    f"benchmark note for @{agent}",
                ],
                root,
                env_mut,
                runs,
            )
        )
    return results, facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    table: dict[str, dict[int, dict[str, object]]] = {}
    notes = []
    with tempfile.TemporaryDirectory(prefix="agentctl-bench-collab-") as tmp:
        for n in args.sizes:
            rows, facts = bench_size(n, args.runs, Path(tmp))
            notes.append(
                f"- {n:,} tasks: {facts['messages']:,} messages; {facts['agent']} has "
                f"{facts['notifications']:,} notifications, {facts['unread']:,} unread"
            )
            for row in rows:
                table.setdefault(str(row["command"]), {})[n] = row
                print(json.dumps({"tasks": n, **row}), file=sys.stderr)
    header = (
        "| command | "
        + " | ".join(f"{n:,} tasks / {n * MESSAGES_PER_TASK:,} msgs" for n in args.sizes)
        + " |"
    )
    lines = [
        "Median wall ms / median CPU ms (user + system) / peak MiB of one whole process, warm index.",
        "",
        header,
        "|---|" + "---:|" * len(args.sizes),
    ]
    for command, by_size in table.items():
        cells = [
            f"{by_size[n]['median_ms']} / {by_size[n]['cpu_ms']} / {by_size[n]['peak_mib']}"
            for n in args.sizes
        ]
        lines.append(f"| `{command}` | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
