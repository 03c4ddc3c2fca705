"""Benchmark: the cost of heartbeats as the workspace grows (100 / 1,000 / 10,000 tasks).

    python bench/bench_heartbeat.py [--sizes 100 1000 10000] [--runs 15] [--out bench/results/heartbeat.md]

For each size it builds a workspace with ``bench_cli.build`` (tasks and events written as files,
ten agents, one reindex, everything committed), then measures:

* the prompt of a working tick, in tokens (``agentctl prime --json`` -> ``tokens``, system and
  work together), for two agents given more work than any prompt section holds, the same at
  every size (:func:`saturate`): a developer (``focus``: tasks with long descriptions and
  threads, 40 mentions, a long memory) and a lead (``chief``: its own tasks, inbox triage,
  reviews, the team). The prompt must not grow with the workspace;
* the median wall time of whole ``python -m agentctl`` processes (the way cron runs them; the
  index warm, ``PYTHONDONTWRITEBYTECODE`` unset) of an idle ``heartbeat AGENT`` and of
  ``heartbeat --all`` with ten idle agents. The bench agents all have work, so they are
  replaced by ten idle specialists first (``agent rm --force`` unassigns their tasks); a lead
  is never idle in these workspaces (there is always inbox work to triage), so none is among
  them. ``--version`` is measured alongside as the floor of any agentctl process.

Medians are reported, never pass/fail timings. Each figure also goes to stderr as JSON.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import AGENTS, build  # noqa: E402

from agentctl.core.rules import Actor  # noqa: E402
from agentctl.workspace import Workspace  # noqa: E402

IDLE = [f"idle-{i}" for i in range(10)]
FOCUS = "focus"
LEAD = "chief"
LONG = "Implement this part carefully, with tests and documentation for every edge case. " * 40


def _no_autocommit() -> str | None:
    saved = os.environ.get("AGENTCTL_AUTOCOMMIT")
    os.environ["AGENTCTL_AUTOCOMMIT"] = "0"
    return saved


def _restore(saved: str | None) -> None:
    if saved is None:
        os.environ.pop("AGENTCTL_AUTOCOMMIT", None)
    else:
        os.environ["AGENTCTL_AUTOCOMMIT"] = saved


def _commit(root: Path, message: str) -> None:
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", message], check=True)


def saturate(root: Path) -> dict[str, list[str]]:
    """More work than the prompt's sections hold, identical at every workspace size (committed):

    * ``focus`` (a new developer): 10 assigned tasks (long descriptions, 3 criteria each), four
      long comments mentioning it on each (40 notifications), a long memory;
    * ``chief`` (a new lead): 10 assigned tasks with two mentions each, plus 8 more tasks in
      review and 12 more in the inbox, so triage and reviews overflow at any size.

    New agents, so that the tasks they see are these (the bench's own tasks are older and would
    come first in the lists of ``agent-0``..``agent-9``)."""
    saved = _no_autocommit()
    ws = Workspace(root)
    try:
        human = Actor("bench")
        ws.add_agent(human, FOCUS, "developer", "specialist", ["python"])
        ws.add_agent(human, LEAD, "lead", "lead", ["planning"])
        teammate = ws.actor(AGENTS[2])
        owned: dict[str, list[str]] = {FOCUS: [], LEAD: []}
        for name, mentions in ((FOCUS, 4), (LEAD, 2)):
            for i in range(10):
                task = ws.add_task(
                    human, f"{name} task {i}: implement part {i} of the parser", description=LONG, priority=1,
                    assignees=[name], labels=["backend"], criteria=[f"criterion {j} of part {i} holds" for j in range(3)],
                )  # fmt: skip
                owned[name].append(task["id"])
                for k in range(mentions):
                    ws.comment(
                        teammate,
                        task["id"],
                        f"@{name} note {k}: " + "the details of this change matter. " * 40,
                    )
        for i in range(8):
            lesson = f"Lesson {i}: keep the parser small and tested. " * 35
            ws.add_memory(FOCUS, lesson, long_term=True, actor=ws.actor(FOCUS))
        reviews, triage = [], []
        for i in range(8):
            task = ws.add_task(
                human, f"Finished part {i}, please review", description=LONG, assignees=[AGENTS[3]]
            )
            ws.move_task(human, task["id"], "in_progress")
            ws.move_task(human, task["id"], "review")
            reviews.append(task["id"])
        for i in range(12):
            triage.append(
                ws.add_task(human, f"Untriaged request {i}", description=LONG, labels=["backend"])[
                    "id"
                ]
            )
    finally:
        ws.close()
        _restore(saved)
    _commit(root, "saturate: work beyond every prompt cap")
    return {**owned, "reviews": reviews, "triage": triage}


def make_idle(root: Path) -> None:
    """Replace every agent by ten idle specialists (their tasks are unassigned), committed."""
    saved = _no_autocommit()
    ws = Workspace(root)
    try:
        human = Actor("bench")
        for agent in ws.list_agents():
            ws.remove_agent(human, agent["name"], force=True)
        for name in IDLE:
            ws.add_agent(human, name, "developer", "specialist", ["python"])
    finally:
        ws.close()
        _restore(saved)
    _commit(root, "ten idle agents")


def _env() -> dict[str, str]:
    drop = (
        "PYTHONDONTWRITEBYTECODE",
        "AGENTCTL_WORKSPACE",
        "AGENTCTL_AGENT",
        "AGENTCTL_AUTOCOMMIT",
    )
    return {k: v for k, v in os.environ.items() if k not in drop}


def run_once(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"exit {proc.returncode}: {' '.join(argv)}\n{proc.stderr}")
    return elapsed, proc.stdout


def median_ms(argv: list[str], cwd: Path, env: dict[str, str], runs: int) -> float:
    run_once(argv, cwd, env)  # warm: index, page cache, .pyc files, the first idle state record
    return round(statistics.median(run_once(argv, cwd, env)[0] for _ in range(runs)) * 1000, 1)


def interleaved(
    commands: dict[str, list[str]], cwd: Path, env: dict[str, str], runs: int
) -> dict[str, tuple[float, float]]:
    """(median, minimum) ms of each command, run in turns so that a busy machine slows them
    all alike; one warm-up round first."""
    times: dict[str, list[float]] = {label: [] for label in commands}
    for round_ in range(runs + 1):
        for label, argv in commands.items():
            elapsed = run_once(argv, cwd, env)[0]
            if round_:
                times[label].append(elapsed)
    return {
        label: (round(statistics.median(t) * 1000, 1), round(min(t) * 1000, 1))
        for label, t in times.items()
    }


def prompt_tokens(root: Path, agent: str, env: dict[str, str]) -> dict[str, object]:
    _, out = run_once(
        [sys.executable, "-m", "agentctl", "prime", "--agent", agent, "--json"], root, env
    )
    doc = json.loads(out)
    return {"tokens": doc["tokens"], "prompt_chars": len(doc["prompt"]), "work": doc["work"]}


def bench_size(n: int, runs: int, base: Path) -> dict[str, object]:
    root = base / f"ws-{n}"
    build(root, n)
    saturate(root)
    env = _env()
    exe = [sys.executable, "-m", "agentctl"]
    row: dict[str, object] = {"tasks": n}
    row["prompt_focus"] = prompt_tokens(root, FOCUS, env)
    row["prompt_lead"] = prompt_tokens(root, LEAD, env)
    row["prime_ms"] = median_ms(
        [*exe, "prime", "--agent", FOCUS, "--json"], root, env, max(3, runs // 3)
    )
    make_idle(root)
    run_once(
        [*exe, "heartbeat", "--all"], root, env
    )  # first beats: each records its idle state once
    timed = interleaved(
        {"version_ms": [*exe, "--version"], "idle_tick_ms": [*exe, "heartbeat", IDLE[0]],
         "idle_all_ms": [*exe, "heartbeat", "--all"]},
        root, env, runs,
    )  # fmt: skip
    row.update(timed)
    row["load"] = round(os.getloadavg()[0], 1)
    _, out = run_once([*exe, "runs", IDLE[0], "--limit", "100", "--json"], root, env)
    inner = [r["duration_ms"] for r in json.loads(out)["runs"] if r["outcome"] == "idle"]
    row["idle_tick_inner_ms"] = statistics.median(inner)
    outcomes = {
        r["outcome"]
        for r in json.loads(run_once([*exe, "heartbeat", "--all", "--json"], root, env)[1])["runs"]
    }
    assert outcomes == {"idle"}, outcomes
    return row


def table(rows: list[dict[str, object]]) -> str:
    sizes = [int(r["tasks"]) for r in rows]  # type: ignore[call-overload]
    header = "| measure | " + " | ".join(f"{n:,} tasks" for n in sizes) + " |"
    lines = [header, "|---|" + "---:|" * len(sizes)]

    def add(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    def ms(value: object) -> str:
        median, best = value  # type: ignore[misc]
        return f"{median} (min {best})"

    add(
        "idle `heartbeat AGENT`, ms: median (min), whole process",
        [ms(r["idle_tick_ms"]) for r in rows],
    )
    add("idle `heartbeat --all`, 10 agents, ms", [ms(r["idle_all_ms"]) for r in rows])
    add("`--version`, ms (the floor of any agentctl process)", [ms(r["version_ms"]) for r in rows])
    add(
        "idle tick inside the process (run log `duration_ms`), median",
        [str(r["idle_tick_inner_ms"]) for r in rows],
    )
    add("`prime --json` (builds the prompt), median ms", [str(r["prime_ms"]) for r in rows])
    add("load average (1 min) during the timings", [str(r["load"]) for r in rows])
    base_focus = rows[0]["prompt_focus"]["tokens"]  # type: ignore[index]
    base_lead = rows[0]["prompt_lead"]["tokens"]  # type: ignore[index]
    add("prompt tokens, developer with saturated work", [
        f"{r['prompt_focus']['tokens']:,} ({r['prompt_focus']['tokens'] / base_focus - 1:+.1%})" for r in rows  # type: ignore[index]
    ])  # fmt: skip
    add("prompt tokens, lead (triage, reviews, team)", [
        f"{r['prompt_lead']['tokens']:,} ({r['prompt_lead']['tokens'] / base_lead - 1:+.1%})" for r in rows  # type: ignore[index]
    ])  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="agentctl-bench-hb-") as tmp:
        for n in args.sizes:
            row = bench_size(n, args.runs, Path(tmp))
            print(json.dumps(row), file=sys.stderr)
            rows.append(row)
    text = table(rows)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
