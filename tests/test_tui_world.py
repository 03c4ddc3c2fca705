"""A fixed workspace for the board's snapshot and Pilot tests, and proof that it is valid.

Everything that could vary between runs is pinned: record IDs, every timestamp (tasks,
events, messages, agent state), the workspace name, the acting human ($USER, no git repo)
and the clock the app is given (:data:`NOW`). The files are written directly, the way a
``git pull`` would bring them, so the board sees exactly this data.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from conftest import Runner

from agentctl.config import default_config_text
from agentctl.core import body as taskbody
from agentctl.store.frontmatter import Document, dump_yaml

NOW = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


IDS = {
    "schema": "t-1a2b3c4d5e6f",
    "store": "t-2b3c4d5e6f7g",
    "index": "t-3c4d5e6f7g8h",
    "cli": "t-4d5e6f7g8h9j",
    "board": "t-5e6f7g8h9j0k",
    "docs": "t-6f7g8h9j0k1m",
    "tests": "t-7g8h9j0k1m2n",
    "hooks": "t-8h9j0k1m2n3p",
    "bench": "t-9j0k1m2n3p4q",
    "release": "t-0k1m2n3p4q5r",
    "locks": "t-am2n3p4q5r6s",
}

# key, title, status, priority, assignees, labels, depends on, created, updated, criteria (text, done)
TASKS: list[tuple[str, str, str, int, list[str], list[str], list[str], str, str, list[tuple[str, bool]]]] = [
    ("schema", "Design the task schema", "done", 0, ["nova"], ["backend"], [], "2026-03-01T09:00:00Z",
     "2026-03-01T15:00:00Z", [("Fields documented", True), ("JSON Schema generated", True)]),
    ("store", "Implement the file store", "done", 0, ["nova"], ["backend"], ["schema"], "2026-03-01T09:01:00Z",
     "2026-03-02T08:00:00Z", [("Atomic writes", True), ("Round trip is lossless", True)]),
    ("index", "Build the SQLite index", "in_progress", 1, ["nova"], ["backend", "perf"], ["store"],
     "2026-03-01T09:02:00Z", "2026-03-02T09:10:00Z", [("Incremental refresh by stat", False)]),
    ("cli", "Wire up the CLI commands", "review", 1, ["pixel", "sentry"], ["backend"], ["store"],
     "2026-03-01T09:03:00Z", "2026-03-02T09:20:00Z", [("Every command has --json", True), ("Exit codes documented", False)]),
    ("board", "Live TUI board", "assigned", 2, ["pixel"], ["frontend"], ["index"], "2026-03-01T09:04:00Z",
     "2026-03-02T09:00:00Z", [("Updates within a second", False)]),
    ("docs", "Write the user guide", "inbox", 2, [], ["docs"], ["cli"], "2026-03-01T09:05:00Z",
     "2026-03-01T09:05:00Z", []),
    ("tests", "Concurrency and crash tests", "assigned", 1, ["sentry"], ["qa"], [], "2026-03-01T09:06:00Z",
     "2026-03-02T09:05:00Z", [("8 processes, no lost update", False)]),
    ("hooks", "Git hooks integration", "blocked", 3, [], ["git"], [], "2026-03-01T09:07:00Z",
     "2026-03-02T09:30:00Z", []),
    ("bench", "Benchmarks at 10k tasks", "inbox", 2, [], ["perf"], ["index"], "2026-03-01T09:08:00Z",
     "2026-03-01T09:08:00Z", [("Medians reported", False)]),
    ("release", "Cut the first release", "inbox", 1, [], ["release"], ["docs", "tests", "board"],
     "2026-03-01T09:09:00Z", "2026-03-01T09:09:00Z", [("Changelog updated", False)]),
    ("locks", "Investigate intermittent lock timeouts when forty agents tick at the same minute", "inbox", 0,
     [], ["perf"], [], "2026-03-02T07:45:00Z", "2026-03-02T07:45:00Z", []),
]  # fmt: skip

AGENTS = [
    # name, role, level, capabilities, state
    ("atlas", "orchestrator", "lead", ["planning", "review"],
     {"status": "active", "current_task": IDS["index"], "last_heartbeat": "2026-03-02T09:58:00Z", "last_outcome": "3 actions"}),
    ("nova", "backend-developer", "specialist", ["python", "database"],
     {"status": "idle", "last_heartbeat": "2026-03-02T09:46:00Z", "last_outcome": "no work"}),
    ("pixel", "frontend-developer", "specialist", ["tui", "docs"],
     {"status": "idle", "last_heartbeat": "2026-03-02T05:00:00Z", "last_outcome": "2 actions"}),
    ("sentry", "qa-reviewer", "specialist", ["testing", "review"],
     {"status": "blocked", "last_heartbeat": "2026-03-02T09:00:00Z", "last_outcome": "runtime failed: command not found: qa-bot", "failures": 3}),
]  # fmt: skip

MESSAGES = [
    # task, id, author, created_at, kind, mentions, body
    ("cli", "m-1q2r3s4t5v6w", "pixel", "2026-03-02T09:20:00.000Z", "status_update", [],
     "All commands are wired; please check the `--json` shapes."),
    ("cli", "m-2r3s4t5v6w7x", "sentry", "2026-03-02T09:40:00.000Z", "question", ["pixel"],
     "@pixel does `task list --json` include the claim of a task?"),
]  # fmt: skip


def _event(
    n: int,
    ts: str,
    actor: str,
    type_: str,
    subject: str | None,
    data: dict[str, Any],
    notify: list[str] | None = None,
) -> str:
    event = {"id": f"e-{n:012d}", "ts": ts, "actor": actor, "type": type_, "subject": subject, "data": data,
             "notify": notify or []}  # fmt: skip
    return json.dumps(event, separators=(",", ":"))


def build_world(root: Path) -> dict[str, str]:
    """Write the fixed workspace into ``root`` (created); returns the task IDs by key."""
    agentctl_dir = root / ".agentctl"
    for sub in (
        "agents",
        "tasks",
        "threads",
        "events",
        "specs",
        "docs",
        "memory",
        "local",
        "inbox",
    ):
        (agentctl_dir / sub).mkdir(parents=True, exist_ok=True)
    (agentctl_dir / ".gitignore").write_text("local/\n", encoding="utf-8")
    (agentctl_dir / "config.yaml").write_text(
        default_config_text("orbit", allow_simulated=True), encoding="utf-8"
    )  # a demo-like world
    for name, role, level, caps, state in AGENTS:
        agent: dict[str, Any] = {"name": name, "role": role, "level": level, "capabilities": caps, "runtime": "simulated",
                  "heartbeat": {"every": "15m"}, "created_at": "2026-03-01T08:00:00Z"}  # fmt: skip
        persona = f"# {name}\n\nYou are {name}, the team's {role}.\n"
        (agentctl_dir / "agents" / f"{name}.md").write_text(
            Document.new(agent, persona).dumps(), encoding="utf-8"
        )
        (agentctl_dir / "agents" / f"{name}.state.yaml").write_text(
            dump_yaml(cast("dict[str, Any]", state)), encoding="utf-8"
        )
    for key, title, status, priority, assignees, labels, deps, created, updated, criteria in TASKS:
        fields: dict[str, Any] = {
            "id": IDS[key], "title": title, "status": status, "priority": priority, "assignees": assignees,
            "labels": labels, "depends_on": [IDS[d] for d in deps], "created_by": "atlas",
            "created_at": created, "updated_at": updated,
        }  # fmt: skip
        if key == "index":
            fields["claim"] = {
                "claimed_by": "nova",
                "epoch": 1,
                "lease_expires": "2026-03-02T11:10:00Z",
            }
        body = taskbody.task_body(
            f"{title}. Part of the first release.", [taskbody.Criterion(t, d) for t, d in criteria]
        )
        (agentctl_dir / "tasks" / f"{IDS[key]}.md").write_text(
            Document.new(fields, body).dumps(), encoding="utf-8"
        )
    for key, message_id, author, created, kind, mentioned, text in MESSAGES:
        folder = agentctl_dir / "threads" / IDS[key]
        folder.mkdir(exist_ok=True)
        stamp = created.replace("-", "").replace(":", "").replace(".", "")
        fields = {"id": message_id, "task": IDS[key], "author": author, "created_at": created, "kind": kind,
                  "mentions": mentioned}  # fmt: skip
        (folder / f"{stamp}-{message_id}.md").write_text(
            Document.new(fields, text + "\n").dumps(), encoding="utf-8"
        )
    doc = {"id": "d-1n2p3q4r5s6t", "title": "Index design notes", "type": "research", "task": IDS["index"],
           "author": "nova", "created_at": "2026-03-02T08:30:00Z", "updated_at": "2026-03-02T08:30:00Z"}  # fmt: skip
    (agentctl_dir / "docs" / "d-1n2p3q4r5s6t.md").write_text(
        Document.new(
            doc, "# Index design notes\n\nStat signatures decide what to re-read.\n"
        ).dumps(),
        encoding="utf-8",
    )
    memories = {
        "atlas": "# atlas\n\n- Release target: end of the week.\n- sentry reviews everything that touches the store.\n",
        "nova": "# nova\n\n- The index is a cache: the files win.\n- Run the crash tests before asking for review.\n",
    }
    for name, text in memories.items():
        (agentctl_dir / "memory" / name).mkdir(parents=True, exist_ok=True)
        (agentctl_dir / "memory" / name / "MEMORY.md").write_text(text, encoding="utf-8")
    runs = {
        "nova": [
            {"agent": "nova", "started": "2026-03-02T09:10:00Z", "outcome": "worked", "applied": 2, "rejected": 0,
             "tokens_in": 1830, "tokens_out": 212, "cost_usd": 0.0041, "duration_ms": 5230},
            {"agent": "nova", "started": "2026-03-02T09:46:00Z", "outcome": "idle", "duration_ms": 41},
        ],
        "sentry": [
            {"agent": "sentry", "started": "2026-03-02T09:00:00Z", "outcome": "failed", "duration_ms": 12,
             "error": "runtime failed: command not found: qa-bot"},
        ],
    }  # fmt: skip
    (agentctl_dir / "local" / "runs").mkdir(parents=True, exist_ok=True)
    for name, records in runs.items():
        lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        (agentctl_dir / "local" / "runs" / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    events = [
        _event(1, "2026-03-02T08:00:00.000Z", "sentry", "task.moved", IDS["store"],
               {"title": "Implement the file store", "from": "review", "to": "done"}, ["nova"]),
        _event(2, "2026-03-02T09:05:00.000Z", "atlas", "task.assigned", IDS["tests"],
               {"title": "Concurrency and crash tests", "added": ["sentry"]}, ["sentry"]),
        _event(3, "2026-03-02T09:10:00.000Z", "nova", "task.claimed", IDS["index"],
               {"title": "Build the SQLite index", "epoch": 1, "from": "assigned"}),
        _event(4, "2026-03-02T09:20:00.000Z", "pixel", "task.moved", IDS["cli"],
               {"title": "Wire up the CLI commands", "from": "in_progress", "to": "review"}, ["sentry"]),
        _event(5, "2026-03-02T09:30:00.000Z", "atlas", "task.moved", IDS["hooks"],
               {"title": "Git hooks integration", "from": "inbox", "to": "blocked"}),
        _event(6, "2026-03-02T09:40:00.000Z", "sentry", "message.added", IDS["cli"],
               {"title": "Wire up the CLI commands", "message": "m-2r3s4t5v6w7x", "kind": "question",
                "mentions": ["pixel"], "excerpt": "@pixel does `task list --json` include the claim of a task?"},
               ["pixel"]),
        _event(7, "2026-03-02T09:58:00.000Z", "atlas", "note.added", None, {"text": "Release target: Friday"}),
    ]  # fmt: skip
    (agentctl_dir / "events" / "2026-03-02.jsonl").write_text(
        "\n".join(events) + "\n", encoding="utf-8"
    )
    # sentry has read the notification about the tests assignment
    (agentctl_dir / "inbox" / "sentry.jsonl").write_text(
        json.dumps(
            {"ts": "2026-03-02T09:06:00.000Z", "read": ["e-000000000002"]}, separators=(",", ":")
        )
        + "\n",
        encoding="utf-8",
    )
    return dict(IDS)


def test_the_world_is_a_valid_workspace(tmp_path: Path, cli: Runner) -> None:
    root = tmp_path / "world"
    build_world(root)
    r = cli("-W", str(root), "validate")
    assert r.code == 0, str(r)
    r = cli("-W", str(root), "task", "list", "--all", "--json")
    assert r.code == 0, str(r)
    assert sorted(t["id"] for t in r.json()["tasks"]) == sorted(IDS.values())


def test_the_world_has_threads_unread_notifications_and_a_feed(tmp_path: Path) -> None:
    from agentctl.core.rules import Actor
    from agentctl.tui.gateway import memory_tail, unread
    from agentctl.workspace import Workspace

    root = tmp_path / "world"
    build_world(root)
    ws = Workspace(root)
    try:
        messages = ws.thread(IDS["cli"])["messages"]
        assert [m["author"] for m in messages] == ["pixel", "sentry"]
        per_agent, per_task = unread(ws, Actor("tester"), ["atlas", "nova", "pixel", "sentry"])
        assert per_agent == {"atlas": 0, "nova": 1, "pixel": 1, "sentry": 1}
        assert per_task == {IDS["store"]: 1, IDS["cli"]: 2}
        assert [e["id"] for e in ws.feed(limit=3)] == [
            "e-000000000005",
            "e-000000000006",
            "e-000000000007",
        ]
        assert ws.list_docs(task=IDS["index"])[0]["title"] == "Index design notes"
        assert "Release target" in (memory_tail(ws, "atlas") or "")
    finally:
        ws.close()


def svg_text(svg: str) -> str:
    """The characters of a textual SVG screenshot, one line per terminal row (for asserting
    on what a person sees, and for reading snapshot files)."""
    import html
    import re

    rows: dict[float, list[tuple[float, str]]] = {}
    cell = 0.0
    pattern = (
        r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)" textLength="([\d.]+)"[^>]*>(.*?)</text>'
    )
    for match in re.finditer(pattern, svg):
        x, y, length, text = (
            float(match[1]),
            float(match[2]),
            float(match[3]),
            html.unescape(match[4]).replace("\xa0", " "),
        )
        if text and not cell:
            cell = length / len(text)
        rows.setdefault(y, []).append((x, text))
    cell = cell or 12.2
    lines = []
    for y in sorted(rows):
        line = [" "] * 512
        for x, text in rows[y]:
            column = round(x / cell)
            for offset, char in enumerate(text):
                if column + offset < len(line):
                    line[column + offset] = char
        lines.append("".join(line).rstrip())
    return "\n".join(lines)
