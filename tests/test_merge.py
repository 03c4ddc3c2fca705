"""Two clones of one repository work on the same task offline, then merge through a bare
remote: no git conflicts, nothing lost, nothing duplicated on read.

Clone A and clone B each add messages with mentions, notifications (through comments,
assignments and moves of different tasks), inbox reads and other events about the shared
task; then B pushes, A pulls (merge or rebase), A pushes and B pulls. Both indexes are warm
before the pulls, as they are in real use, so the tests also prove that the local index
follows logs that a merge rewrote.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_USER_EMAIL, Result, git, run_cli

from agentctl.errors import ExitCode
from agentctl.workspace import Workspace


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """Every test here is about git (commits, history, recovery): a real repository."""
    return git_ws_root


AGENTS = (
    ("alice", "developer", "specialist", ()),
    ("bob", "QA Engineer", "specialist", ("review",)),
    ("carol", "lead", "lead", ()),
)
CONFLICT_MARKERS = re.compile(r"^(<<<<<<<|>>>>>>>)( |$)", re.MULTILINE)


class Clone:
    """One working copy; agentctl runs in-process against it (auto-commit on)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.messages: set[str] = set()

    def run(self, *args: str, input: str | None = None) -> Result:
        return run_cli("-W", str(self.root), *args, input=input, cwd=self.root)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self.run(*args, input=input)
        assert result.code == 0, str(result)
        return result

    def json(self, *args: str) -> Any:
        return self.ok(*args, "--json").json()

    def comment(self, agent: str, task: str, text: str, *options: str) -> str:
        message_id: str = self.json("--as", agent, "task", "comment", task, text, *options)[
            "message"
        ]["id"]
        self.messages.add(message_id)
        return message_id

    def inbox(self, agent: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.json("inbox", "--agent", agent, "--all")["inbox"][
            "notifications"
        ]
        return items

    def unread(self, agent: str) -> list[str]:
        return [n["id"] for n in self.json("inbox", "--agent", agent)["inbox"]["notifications"]]

    def events_on_disk(self) -> list[dict[str, Any]]:
        events = []
        for path in sorted((self.root / ".agentctl" / "events").glob("*.jsonl")):
            events += [
                json.loads(line)
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()
            ]
        return events

    def read_state_on_disk(self) -> dict[str, dict[str, set[str]]]:
        """agent -> {"read": ids, "delivered": ids} from the inbox logs."""
        state: dict[str, dict[str, set[str]]] = defaultdict(
            lambda: {"read": set(), "delivered": set()}
        )
        for path in sorted((self.root / ".agentctl" / "inbox").glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                for column in ("read", "delivered"):
                    state[path.stem][column] |= set(entry.get(column) or [])
        return state

    def git(self, *args: str, check: bool = True) -> str:
        return git(self.root, *args, check=check)


def _configure(root: Path, name: str) -> None:
    git(root, "config", "user.name", name)
    git(root, "config", "user.email", GIT_USER_EMAIL)
    git(root, "config", "commit.gpgsign", "false")


def _pull(clone: Clone, mode: str) -> str:
    proc = git(clone.root, "pull", mode, "--no-edit", "origin", "main", check=False)
    status = clone.git("status", "--porcelain", "--untracked-files=all")
    assert "CONFLICT" not in proc, proc
    assert status == "", f"after git pull {mode}: {status}"
    return proc


def _no_conflict_markers(clone: Clone) -> None:
    for rel in clone.git("ls-files").splitlines():
        text = (clone.root / rel).read_text(encoding="utf-8", errors="replace")
        assert not CONFLICT_MARKERS.search(text), f"conflict marker in {rel}"


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    """A bare remote; clone A with a workspace, three agents and four tasks, pushed; clone B."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    a_root = tmp_path / "a"
    a_root.mkdir()
    git(a_root, "init", "-q", "-b", "main")
    _configure(a_root, "Machine A")
    a = Clone(a_root)
    a.ok("init")
    for name, role, level, capabilities in AGENTS:
        args = ["agent", "add", name, "--role", role, "--level", level]
        for capability in capabilities:
            args += ["--capability", capability]
        a.ok(*args)
    tasks = {
        "shared": a.json("task", "add", "Shared design", "--assign", "alice")["task"]["id"],
        "for_a": a.json("task", "add", "Work on A")["task"]["id"],
        "for_b": a.json("task", "add", "Work on B")["task"]["id"],
    }
    tasks["after_b"] = a.json(
        "task", "add", "Waits for B's work", "--assign", "alice", "--depends-on", tasks["for_b"]
    )["task"]["id"]
    a.comment("carol", tasks["shared"], "Kick-off: @alice drafts, @bob reviews.")
    git(a_root, "remote", "add", "origin", str(remote))
    git(a_root, "push", "-q", "-u", "origin", "main")
    b_root = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(remote), str(b_root))
    _configure(b_root, "Machine B")
    b = Clone(b_root)
    b.messages = set(a.messages)
    base_events = {e["id"] for e in a.events_on_disk()}
    # Warm both local indexes (as every real clone has one) before anything diverges.
    for clone in (a, b):
        clone.ok("feed", "--limit", "1")
        clone.ok("search", "kick")
    return {"a": a, "b": b, "tasks": tasks, "base_events": base_events}


def _work_offline(world: dict[str, Any]) -> dict[str, Any]:
    """Both clones change the same task (and one task each) without talking to each other."""
    a: Clone = world["a"]
    b: Clone = world["b"]
    tasks = world["tasks"]
    shared = tasks["shared"]

    # -- clone A
    a.comment("alice", shared, "Draft is up, @bob please look at section 2.")
    a.comment("bob", shared, "Looks fine; @carol can you confirm the budget?", "--kind", "review")
    a.comment("alice", shared, "```\n@carol not a mention in code\n```\nNoted.")
    a.ok("task", "assign", tasks["for_a"], "bob")
    a.ok("--as", "bob", "task", "move", tasks["for_a"], "in_progress")
    a.ok("task", "edit", shared, "--label", "design")
    a.ok("--as", "carol", "task", "subscribe", shared)
    a.ok("--as", "bob", "inbox", "read", "--all")
    alice_first = a.unread("alice")[0]
    a.ok("--as", "alice", "inbox", "read", alice_first)
    ws = Workspace(a.root)
    try:
        ws.mark_delivered(ws.actor("carol"), a.unread("carol")[:1])
    finally:
        ws.close()

    # -- clone B (same task, same agents, same day files)
    b.comment("carol", shared, "Budget confirmed. @alice @bob go ahead.")
    b.comment("bob", shared, "@all review meeting at 3pm", "--kind", "status_update")
    b.comment("alice", shared, "Question for @role:lead: ship on Friday?", "--kind", "question")
    b.ok("task", "assign", tasks["for_b"], "carol")
    b.ok("--as", "carol", "task", "move", tasks["for_b"], "in_progress")
    b.ok("--as", "carol", "task", "move", tasks["for_b"], "review")  # leads pass review too
    b.ok(
        "approve", tasks["for_b"], "--note", "fine"
    )  # a person approves: notifies alice, dependency done
    b.ok(
        "doc",
        "add",
        "Design decision",
        "--type",
        "decision",
        "--task",
        shared,
        input="We go with plan B.\n",
    )
    b.ok("--as", "alice", "inbox", "read", "--all")
    b.ok("--as", "bob", "inbox", "read", b.unread("bob")[0])

    for clone in (a, b):
        assert clone.git("status", "--porcelain", "--untracked-files=all") == ""
    return {
        "events": {e["id"] for c in (a, b) for e in c.events_on_disk()},
        "a_state": a.read_state_on_disk(),
        "b_state": b.read_state_on_disk(),
        "messages": a.messages | b.messages,
    }


def _check_converged(world: dict[str, Any], offline: dict[str, Any]) -> None:
    a: Clone = world["a"]
    b: Clone = world["b"]
    shared = world["tasks"]["shared"]
    assert a.git("rev-parse", "HEAD") == b.git("rev-parse", "HEAD")
    expected_notify: dict[str, set[str]] = defaultdict(set)
    for event in a.events_on_disk():
        for agent in event["notify"]:
            expected_notify[agent].add(event["id"])
    read_union: dict[str, set[str]] = defaultdict(set)
    delivered_union: dict[str, set[str]] = defaultdict(set)
    for state in (offline["a_state"], offline["b_state"]):
        for agent, columns in state.items():
            read_union[agent] |= columns["read"]
            delivered_union[agent] |= columns["delivered"]

    for clone in (a, b):
        _no_conflict_markers(clone)
        r = clone.run("validate")
        assert r.code == 0, str(r)

        # Every message from both sides exactly once, in time order.
        messages = clone.json("thread", shared)["thread"]["messages"]
        ids = [m["id"] for m in messages]
        assert len(ids) == len(set(ids)), ids
        assert set(ids) == offline["messages"]
        stamps = [(m["created_at"], m["id"]) for m in messages]
        assert stamps == sorted(stamps)
        shown = clone.json("task", "show", shared)["task"]
        assert [m["id"] for m in shown["thread"]] == ids
        assert [d["title"] for d in shown["docs"]] == ["Design decision"]
        assert shown["labels"] == ["design"]

        # Every event exactly once.
        events = clone.json("feed", "--limit", "100000")["events"]
        event_ids = [e["id"] for e in events]
        assert len(event_ids) == len(set(event_ids)), "duplicated events in the feed"
        assert set(event_ids) == offline["events"] | world["base_events"], (
            f"missing: {sorted(offline['events'] - set(event_ids))}"
        )
        on_disk = [e["id"] for e in clone.events_on_disk()]
        assert len(on_disk) == len(set(on_disk)), "an event line was duplicated by the merge"
        assert set(on_disk) == set(event_ids)

        # Inboxes: every notification once; read-state is the union of both sides.
        for agent, _, _, _ in AGENTS:
            items = clone.inbox(agent)
            got = [n["id"] for n in items]
            assert len(got) == len(set(got)), (agent, got)
            assert set(got) == expected_notify[agent], agent
            read = {n["id"] for n in items if n["read"]}
            assert read == read_union[agent] & expected_notify[agent], agent
            delivered = {n["id"] for n in items if n["delivered"]}
            assert delivered == delivered_union[agent] & expected_notify[agent], agent
            assert clone.json("inbox", "--agent", agent)["inbox"]["unread"] == len(
                expected_notify[agent] - read_union[agent]
            )

        # Subscriptions are folded from both sides' events.
        assert shown["subscribers"] == ["alice", "bob", "carol"]

        # Search sees both sides' messages.
        hits = {h["id"] for h in clone.json("search", "budget", "--type", "message")["hits"]}
        assert len(hits) == 2, hits

    # Sanity: both sides read something, so the union is a real union.
    assert offline["a_state"]["bob"]["read"] and offline["b_state"]["bob"]["read"]
    assert offline["a_state"]["bob"]["read"] != offline["b_state"]["bob"]["read"]
    # alice was told on B that the task she waits for is done.
    reasons = {n["reason"] for n in a.inbox("alice")}
    assert "dependency_done" in reasons


def _working_md(world: dict[str, Any]) -> None:
    """After the merge WORKING.md has no conflict markers; `working apply` refuses to act on
    the merged text (rendered from one side's state); `agentctl working` re-renders it
    identically on both clones."""
    a: Clone = world["a"]
    b: Clone = world["b"]
    merged = (a.root / "WORKING.md").read_text(encoding="utf-8")
    assert not CONFLICT_MARKERS.search(merged)
    # Task lines rendered from one side's state must never be read as hand moves: the state
    # digest does not match the merged state, so nothing is applied.
    before = a.git("rev-parse", "HEAD")
    r = a.run("working", "apply")
    assert r.code == ExitCode.CONFLICT, str(r)
    assert "older state" in r.err
    assert a.git("rev-parse", "HEAD") == before
    texts = []
    for clone in (a, b):
        document = clone.json("working")
        texts.append(document["text"])
        assert (clone.root / "WORKING.md").read_text(encoding="utf-8") == document["text"]
        again = clone.json("working")
        assert again["rerendered"] is False
        text = document["text"]
        assert text.count("## Active agents") == 1
        assert len(re.findall(r"^Updated ", text, re.MULTILINE)) == 1
        for name, _, _, _ in AGENTS:
            unread = clone.json("inbox", "--agent", name)["inbox"]["unread"]
            (line,) = [ln for ln in text.splitlines() if ln.startswith(f"- **{name}**")]
            assert line.endswith(f"· {unread} unread") if unread else "unread" not in line, line
    assert texts[0] == texts[1], (
        "the two clones render different WORKING.md files from the same commit"
    )


@pytest.mark.parametrize("mode", ["--no-rebase", "--rebase"])
def test_two_clones_merge_cleanly(world: dict[str, Any], mode: str) -> None:
    a: Clone = world["a"]
    b: Clone = world["b"]
    offline = _work_offline(world)

    b.git("push", "-q", "origin", "main")
    _pull(a, mode)
    # WORKING.md's merge driver keeps one rendering (never a conflict); it was rendered before
    # the merge, so any command that re-renders (or the post-merge hook) brings it up to date.
    a_merged = (a.root / "WORKING.md").read_text(encoding="utf-8")
    a.git("push", "-q", "origin", "main")
    _pull(b, "--no-rebase")
    assert (b.root / "WORKING.md").read_text(encoding="utf-8") == a_merged

    _check_converged(world, offline)
    _working_md(world)

    # The clones keep working after the merge: the next mutation commits a fresh WORKING.md.
    for clone in (a, b):
        clone.git("checkout", "-q", "--", "WORKING.md")
    a.comment("alice", world["tasks"]["shared"], "After the merge, @bob.")
    assert a.git("status", "--porcelain") == ""
    text = (a.root / "WORKING.md").read_text(encoding="utf-8")
    assert text.count("## Active agents") == 1


def test_repeated_round_trips_stay_consistent(world: dict[str, Any]) -> None:
    """Several rounds of offline work and syncs in both directions."""
    a: Clone = world["a"]
    b: Clone = world["b"]
    shared = world["tasks"]["shared"]
    for round_ in range(3):
        a.comment("alice", shared, f"A round {round_} @bob")
        b.comment("bob", shared, f"B round {round_} @alice")
        a.ok("--as", "bob", "inbox", "read", "--all")
        b.ok("--as", "alice", "inbox", "read", "--all")
        b.git("push", "-q", "origin", "main")
        _pull(a, "--rebase" if round_ % 2 else "--no-rebase")
        a.git("push", "-q", "origin", "main")
        _pull(b, "--no-rebase")
    messages = a.messages | b.messages
    for clone in (a, b):
        ids = [m["id"] for m in clone.json("thread", shared)["thread"]["messages"]]
        assert len(ids) == len(set(ids)) and set(ids) == messages
        events = [e["id"] for e in clone.json("feed", "--limit", "100000")["events"]]
        assert len(events) == len(set(events))
        assert set(events) == {e["id"] for e in clone.events_on_disk()}
        assert clone.run("validate").code == 0
        _no_conflict_markers(clone)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["--no-rebase", "--rebase"])
def test_working_md_is_one_rendering_right_after_a_pull(world: dict[str, Any], mode: str) -> None:
    a: Clone = world["a"]
    b: Clone = world["b"]
    _work_offline(world)
    b.git("push", "-q", "origin", "main")
    _pull(a, mode)
    merged = (a.root / "WORKING.md").read_text(encoding="utf-8")
    assert merged.count("## Active agents") == 1
    assert len(re.findall(r"^Updated ", merged, re.MULTILINE)) == 1


def _rewrite_in_place(path: Path, text: str) -> None:
    """Replace a file's content keeping its inode (as git often does when it reuses one)."""
    ino = path.stat().st_ino
    with open(path, "r+", encoding="utf-8") as handle:
        handle.seek(0)
        handle.write(text)
        handle.truncate()
    assert path.stat().st_ino == ino


def test_index_rereads_logs_rewritten_with_lines_before_its_offset(ws_root: Path) -> None:
    """A rebase puts the other machine's lines before ours; the file grows and may keep its
    inode. The index must not read on from its old offset (it would miss those lines)."""
    from agentctl.store import events as eventlog

    def cli(*args: str) -> Result:
        return run_cli(*args, cwd=ws_root)

    for name in ("alice", "bob"):
        assert cli("agent", "add", name, "--role", "developer").code == 0
    task = cli("task", "add", "Shared", "--json").json()["task"]["id"]
    assert cli("--as", "alice", "task", "comment", task, "hi @bob").code == 0
    before = {e["id"] for e in cli("feed", "--limit", "1000", "--json").json()["events"]}  # warm
    (unread,) = cli("inbox", "--agent", "bob", "--json").json()["inbox"]["notifications"]
    assert cli("--as", "bob", "inbox", "read", unread["id"]).code == 0
    assert cli("inbox", "--agent", "bob", "--json").json()["inbox"]["unread"] == 0  # warm

    # The other machine's events and read-state, placed before ours in the same files.
    day_file = ws_root / ".agentctl" / "events" / f"{unread['ts'][:10]}.jsonl"
    ours = day_file.read_text(encoding="utf-8")
    base, _, mine = ours.rpartition(ours.splitlines(keepends=True)[-3])
    theirs = [
        eventlog.make_event(
            "alice",
            "task.edited",
            task,
            {"title": "Shared", "fields": ["labels"]},
            ["bob"],
            ts=None,
        )
        for _ in range(3)
    ]
    inserted = "".join(eventlog.encode(e) + "\n" for e in theirs)
    _rewrite_in_place(day_file, base + inserted + ours.splitlines(keepends=True)[-3] + mine)
    state_file = ws_root / ".agentctl" / "inbox" / "bob.jsonl"
    own_state = state_file.read_text(encoding="utf-8")
    _rewrite_in_place(
        state_file,
        json.dumps({"ts": "2026-01-01T00:00:00.000Z", "read": [theirs[0]["id"]]})
        + "\n"
        + own_state,
    )

    events = cli("feed", "--limit", "1000", "--json").json()["events"]
    assert {e["id"] for e in events} == before | {e["id"] for e in theirs}
    assert len(events) == len(before) + 3
    box = cli("inbox", "--agent", "bob", "--all", "--json").json()["inbox"]
    read = {n["id"] for n in box["notifications"] if n["read"]}
    assert read == {unread["id"], theirs[0]["id"]}
    assert box["unread"] == 2


def test_rerendering_after_a_merge_does_not_block_the_next_pull(world: dict[str, Any]) -> None:
    a: Clone = world["a"]
    b: Clone = world["b"]
    shared = world["tasks"]["shared"]
    a.comment("alice", shared, "from A")
    b.comment("bob", shared, "from B")
    b.git("push", "-q", "origin", "main")
    _pull(a, "--no-rebase")
    a.ok("working")  # fix the union-merged file, as the docs suggest
    b.comment("bob", shared, "B again")
    b.git("push", "-q", "origin", "main")
    _pull(a, "--no-rebase")
