"""Generate a large agentctl workspace (default 100,000 tasks) for the scale benchmarks.

    python bench/bench_gen.py DIR [--tasks 100000] [--messages M] [--events E] [--seed S]
                                  [--commits C]

Writes the record files directly in the on-disk format (docs/formats.md), not through the
API: tasks (``.agentctl/tasks/<id>.md``), message threads (``.agentctl/threads/<task>/
<stamp>-<id>.md``) and the daily event logs (``.agentctl/events/<day>.jsonl``), with agents
added through the API (one of them, ``idle``, never has work: its heartbeat is an idle beat).
Defaults scale with the task count: 5 messages and 10 event lines per task (500,000 and
1,000,000 at 100,000 tasks). The files land in ``--commits`` git commits (tasks, threads
and events in chunks of the timeline, after one commit of the empty workspace), then the
index is built once (``reindex``, then the threads' search index, which agentctl otherwise
builds at the first ``search``), WORKING.md rendered and committed.

Deterministic for a seed (IDs come from the seeded generator). DIR must not exist, or hold a
workspace this script generated with the same parameters (then it is reused as it is: the
parameters are kept in ``.agentctl/local/bench-gen.json``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from agentctl.core import body as taskbody
from agentctl.core import mentions
from agentctl.core.ids import ALPHABET, RANDOM_CHARS
from agentctl.core.rules import Actor
from agentctl.store.frontmatter import Document
from agentctl.workspace import Workspace

STATUSES = ["inbox", "assigned", "in_progress", "review", "done", "blocked"]
WEIGHTS = [20, 15, 10, 5, 45, 5]
AGENTS = [f"agent-{i}" for i in range(10)]
IDLE_AGENT = "idle"  # no tasks, never mentioned, not a reviewer: its tick finds nothing to do
VERBS = ["build", "fix", "test", "document", "review"]
AREAS = ["store", "index", "cli", "board", "hooks"]
LABELS = ["backend", "frontend", "perf", "docs", "qa"]
WORDS = ["looks", "good", "needs", "another", "pass", "merged", "blocked", "on", "review"]
START = 1_788_220_800  # 2026-09-01T00:00:00Z: the first event
MARKER = "bench-gen.json"


@dataclass(frozen=True)
class Params:
    tasks: int
    messages: int
    events: int
    seed: int = 7
    commits: int = 4


@dataclass
class Generated:
    """What a benchmark needs to know about a generated workspace."""

    params: Params
    task_ids: list[str]
    thread_task: str  # a task with the most messages
    agents: list[str] = field(default_factory=lambda: [*AGENTS, IDLE_AGENT])
    seconds: dict[str, float] = field(default_factory=dict)


def default_params(tasks: int, messages: int | None = None, events: int | None = None) -> Params:
    """500,000 messages and 1,000,000 event lines at 100,000 tasks, in proportion below."""
    messages = tasks * 5 if messages is None else messages
    events = tasks * 10 if events is None else events
    return Params(tasks=tasks, messages=messages, events=max(events, tasks + messages))


def rand_id(rng: random.Random, kind: str) -> str:
    """An ID in agentctl's format (``ids.new_id``) drawn from the seeded generator."""
    bits = rng.getrandbits(5 * RANDOM_CHARS)
    return kind + "-" + "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(RANDOM_CHARS))


def stamp(seconds: float) -> str:
    """``2026-11-22T01:02:03.456Z`` (``clock.stamp_ms``)."""
    whole = int(seconds)
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        + f".{int((seconds - whole) * 1000):03d}Z"
    )


def _flow(values: list[str]) -> str:
    return "[" + ", ".join(values) + "]"


def task_text(fields: dict[str, object], body: str) -> str:
    """``Document.new(fields, body).dumps()`` for the plain values this script makes, 100
    times faster; :func:`check_templates` proves they agree."""
    lines = ["---"]
    for key, value in fields.items():
        if isinstance(value, list):
            lines.append(f"{key}: {_flow(value)}")
        elif key.endswith("_at"):
            lines.append(f"{key}: '{value}'")
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n---\n" + body


def check_templates(rng: random.Random) -> None:
    """The fast templates write exactly what the store writes (a few records, each run)."""
    task = task_fields(rng, 0, 1, [], "2026-09-01T00:00:00Z", "2026-09-01T00:00:00Z")
    body = task_body(0)
    message = message_fields("m-0123456789ab", "t-0123456789ab", "agent-1", stamp(START), [])
    for fields, text in ((task, body), (message, "hello\n")):
        want = Document.new(fields, text).dumps()
        got = task_text(fields, text)
        if got != want:
            raise SystemExit(f"bench_gen: template drifted from the store's format:\n{got}\n{want}")


def task_body(i: int) -> str:
    return taskbody.task_body(f"Description of task {i}.", [taskbody.Criterion("works")])


def task_fields(
    rng: random.Random, i: int, n_tasks: int, task_ids: list[str], created: str, updated: str
) -> dict[str, object]:
    status = rng.choices(STATUSES, WEIGHTS)[0]
    recent = task_ids[-50:]
    deps = rng.sample(recent, k=min(len(recent), rng.choice([0, 0, 1, 2])))
    return {
        "id": rand_id(rng, "t"),
        "title": f"Task {i} {rng.choice(VERBS)} the {rng.choice(AREAS)}",
        "status": status,
        "priority": rng.randint(0, 3),
        "assignees": [] if status == "inbox" else [rng.choice(AGENTS)],
        "labels": rng.sample(LABELS, k=rng.randint(0, 2)),
        "depends_on": deps,
        "created_by": "bench",
        "created_at": created,
        "updated_at": updated,
    }


def message_fields(
    message_id: str, task_id: str, author: str, created: str, mentioned: list[str]
) -> dict[str, object]:
    return {
        "id": message_id,
        "task": task_id,
        "author": author,
        "created_at": created,
        "kind": "comment",
        "mentions": mentioned,
    }


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True)


def init_workspace(root: Path, name: str, idle_agent: bool = True) -> None:
    """A git repository holding a fresh workspace and the agents, in one commit."""
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    for key, value in (("user.name", "bench"), ("user.email", "bench@example.invalid")):
        git(root, "config", key, value)
    Workspace.init(root, name, "bench")
    ws = Workspace(root)
    human = Actor("bench")
    for i, agent in enumerate(AGENTS):
        ws.add_agent(human, agent, "developer", "lead" if i == 0 else "specialist", ["python"])
    if idle_agent:
        ws.add_agent(human, IDLE_AGENT, "observer", "specialist", ["observing"])
    ws.close()
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench: workspace and agents")


def _spread(rng: random.Random, total: int, buckets: int) -> list[int]:
    counts = [0] * buckets
    for _ in range(total):
        counts[rng.randrange(buckets)] += 1
    return counts


class _Writer:
    """Event lines grouped by day file, appended in order."""

    def __init__(self, events_dir: Path) -> None:
        self.events_dir = events_dir
        self.pending: dict[str, list[str]] = {}

    def add(self, event: dict[str, object]) -> None:
        self.pending.setdefault(str(event["ts"])[:10], []).append(
            json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        )

    def flush(self) -> list[str]:
        """Append the pending lines; returns the days written."""
        for day, lines in self.pending.items():
            with open(self.events_dir / f"{day}.jsonl", "a", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
        days = list(self.pending)
        self.pending.clear()
        return days


def _event(
    rng: random.Random,
    ts: str,
    actor: str,
    type_: str,
    subject: str,
    data: object,
    notify: list[str],
) -> dict[str, object]:
    # The shape of eventlog.make_event, with a seeded ID and a given time.
    return {
        "id": rand_id(rng, "e"),
        "ts": ts,
        "actor": actor,
        "type": type_,
        "subject": subject,
        "data": data,
        "notify": notify,
    }


def generate(root: Path, params: Params, quiet: bool = False, idle_agent: bool = True) -> Generated:
    """Build (or reuse) the workspace at ``root``; see the module docstring. Without
    ``idle_agent`` there are only the ten working agents (``AGENTS``)."""
    marker = root / ".agentctl" / "local" / MARKER
    if marker.is_file():
        saved = json.loads(marker.read_text(encoding="utf-8"))
        if saved["params"] == asdict(params):
            return Generated(
                params, saved["task_ids"], saved["thread_task"], saved["agents"], saved["seconds"]
            )
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"bench_gen: {root} exists and is not a workspace made with {params}")
    log = (lambda *_: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    saved_env = os.environ.get("AGENTCTL_AUTOCOMMIT")
    os.environ["AGENTCTL_AUTOCOMMIT"] = "0"
    try:
        generated = _generate(root, params, log, idle_agent)
    finally:
        if saved_env is None:
            os.environ.pop("AGENTCTL_AUTOCOMMIT", None)
        else:
            os.environ["AGENTCTL_AUTOCOMMIT"] = saved_env
    marker.write_text(
        json.dumps(
            {
                "params": asdict(params),
                "task_ids": generated.task_ids,
                "thread_task": generated.thread_task,
                "agents": generated.agents,
                "seconds": generated.seconds,
            }
        ),
        encoding="utf-8",
    )
    return generated


class _Pack:
    """Git objects written straight into one pack (blobs, trees, commits), indexed once by
    ``git index-pack``: linear in the number of files, no loose objects, and no second pass
    over the files to hash them for ``git add``. (``git fast-import`` inserts each path into
    its in-memory directory by a linear search: quadratic with 100,000 thread directories.)"""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / ".git" / "objects" / "pack" / "tmp-bench-gen.pack"
        self.handle = open(self.path, "wb")  # closed in close()
        self.handle.write(b"PACK" + struct.pack(">II", 2, 0))  # the count is set in close()
        self.count = 0
        self.head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        self.files: dict[str, dict[str, tuple[str, bytes]]] = {}  # dir -> name -> (mode, sha)
        self.trees: dict[str, bytes] = {}  # dir -> its tree's sha, while unchanged
        listing = subprocess.run(
            ["git", "-C", str(root), "ls-tree", "-r", "-z", "HEAD"], capture_output=True, check=True
        ).stdout
        for entry in filter(None, listing.split(b"\0")):
            meta, path = entry.split(b"\t", 1)
            mode, _, sha = meta.decode().split()
            self._place(path.decode(), mode, bytes.fromhex(sha))

    def _object(self, kind: int, data: bytes) -> bytes:
        name = {1: b"commit", 2: b"tree", 3: b"blob"}[kind]
        sha = hashlib.sha1(b"%s %d\0" % (name, len(data)) + data).digest()
        size = len(data)
        header = bytearray([(kind << 4) | (size & 15)])
        size >>= 4
        while size:
            header[-1] |= 0x80
            header.append(size & 0x7F)
            size >>= 7
        self.handle.write(bytes(header) + zlib.compress(data, 1))
        self.count += 1
        return sha

    def _place(self, rel: str, mode: str, sha: bytes) -> None:
        parent, _, name = rel.rpartition("/")
        self.files.setdefault(parent, {})[name] = (mode, sha)
        self.trees.pop(parent, None)
        while parent:  # every directory up to the root changes, and exists in its parent
            above, _, dirname = parent.rpartition("/")
            self.files.setdefault(above, {}).setdefault(dirname, ("40000", b""))
            self.trees.pop(above, None)
            parent = above

    def put(self, rel: str, data: bytes) -> None:
        self._place(rel, "100644", self._object(3, data))

    def _tree(self, directory: str) -> bytes:
        if directory in self.trees:
            return self.trees[directory]
        entries = []
        for name, (mode, sha) in self.files[directory].items():
            if mode == "40000":
                sha = self._tree(f"{directory}/{name}" if directory else name)
                key = name + "/"
            else:
                key = name
            entries.append((key, b"%s %s\0" % (mode.encode(), name.encode()) + sha))
        entries.sort(key=lambda entry: entry[0].encode())
        sha = self._object(2, b"".join(data for _, data in entries))
        self.trees[directory] = sha
        return sha

    def commit(self, message: str) -> None:
        tree = self._tree("").hex()
        who = f"bench <bench@example.invalid> {int(time.time())} +0000"
        text = f"tree {tree}\nparent {self.head}\nauthor {who}\ncommitter {who}\n\n{message}\n"
        self.head = self._object(1, text.encode()).hex()

    def close(self) -> None:
        self.handle.close()
        with open(self.path, "r+b") as handle:
            handle.seek(8)
            handle.write(struct.pack(">I", self.count))
            handle.seek(0)
            digest = hashlib.sha1()
            while block := handle.read(1 << 20):
                digest.update(block)
            handle.write(digest.digest())
        final = self.path.with_name(f"pack-{digest.hexdigest()}.pack")
        self.path.rename(final)
        subprocess.run(
            ["git", "-C", str(self.root), "index-pack", str(final)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        git(self.root, "update-ref", "refs/heads/main", self.head)
        # The index still holds the first commit: take the new tree and stat the files.
        git(self.root, "read-tree", "HEAD")
        git(self.root, "update-index", "-q", "--refresh")


def _write(path: Path, text: str, fast: _Pack, rel: str) -> None:
    data = text.encode()
    with open(path, "wb") as handle:
        handle.write(data)
    fast.put(rel, data)


def _generate(root: Path, params: Params, log: object, idle_agent: bool) -> Generated:
    say = log if callable(log) else print
    rng = random.Random(params.seed)
    check_templates(random.Random(0))
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    init_workspace(root, f"bench {params.tasks}", idle_agent)
    seconds["init"] = time.perf_counter() - began
    n = params.tasks
    messages_of = _spread(rng, params.messages, n)
    others_of = _spread(rng, params.events - n - params.messages, n)
    step = 90 * 86400 / max(params.events, 1)  # the events span 90 days
    dot = root / ".agentctl"
    tasks_dir, threads_dir = dot / "tasks", dot / "threads"
    threads_dir.mkdir(exist_ok=True)
    writer = _Writer(dot / "events")
    fast = _Pack(root)
    task_ids: list[str] = []
    chunks = max(1, params.commits)
    per_chunk = -(-n // chunks)
    k = 0  # the event's place on the timeline
    for chunk in range(chunks):
        for i in range(chunk * per_chunk, min(n, (chunk + 1) * per_chunk)):
            first = stamp(START + k * step)
            k_end = k + messages_of[i] + others_of[i]
            fields = task_fields(
                rng, i, n, task_ids, first[:19] + "Z", stamp(START + k_end * step)[:19] + "Z"
            )
            task_id = str(fields["id"])
            title = fields["title"]
            rel = f".agentctl/tasks/{task_id}.md"
            _write(tasks_dir / f"{task_id}.md", task_text(fields, task_body(i)), fast, rel)
            task_ids.append(task_id)
            created = {"title": title, "status": "inbox"}
            writer.add(_event(rng, first, "bench", "task.created", task_id, created, []))
            k += 1
            kinds = ["m"] * messages_of[i] + ["o"] * others_of[i]
            rng.shuffle(kinds)
            thread = threads_dir / task_id
            if messages_of[i]:
                thread.mkdir()
            for j, kind in enumerate(kinds):
                ts = stamp(START + k * step)
                k += 1
                author = rng.choice(AGENTS)
                if kind == "m":
                    message_id = rand_id(rng, "m")
                    mentioned = [rng.choice(AGENTS)] if rng.random() < 0.3 else []
                    words = " ".join(rng.choices(WORDS, k=6))
                    text = f"Comment {j} on task {i}: {words}" + "".join(
                        f" @{a}" for a in mentioned
                    )
                    name = f"{ts[:4]}{ts[5:7]}{ts[8:10]}T{ts[11:13]}{ts[14:16]}{ts[17:19]}{ts[20:23]}Z-{message_id}.md"
                    record = message_fields(message_id, task_id, author, ts, mentioned)
                    _write(
                        thread / name,
                        task_text(record, text + "\n"),
                        fast,
                        f".agentctl/threads/{task_id}/{name}",
                    )
                    data = {
                        "title": title,
                        "message": message_id,
                        "kind": "comment",
                        "mentions": mentioned,
                        "excerpt": mentions.excerpt(text),
                    }
                    writer.add(_event(rng, ts, author, "message.added", task_id, data, mentioned))
                elif j % 2:
                    added = rng.choice(AGENTS)
                    data = {"title": title, "added": [added]}
                    writer.add(_event(rng, ts, "bench", "task.assigned", task_id, data, [added]))
                else:
                    before, after = rng.sample(STATUSES, 2)
                    data = {"title": title, "from": before, "to": after}
                    writer.add(_event(rng, ts, author, "task.moved", task_id, data, []))
        for day in writer.flush():
            rel = f".agentctl/events/{day}.jsonl"
            fast.put(rel, (root / rel).read_bytes())
        fast.commit(f"bench: tasks, threads and events, part {chunk + 1}")
        say(f"bench_gen: part {chunk + 1}/{chunks}: {time.perf_counter() - began:.1f} s")
    fast.close()
    seconds["write"] = time.perf_counter() - began - seconds["init"]
    t0 = time.perf_counter()
    ws = Workspace(root)
    problems = ws.reindex()["problems"]
    seconds["reindex"] = time.perf_counter() - t0
    if problems:
        raise SystemExit(f"bench_gen: the index found problems: {problems[:3]}")
    say(f"bench_gen: reindex {seconds['reindex']:.1f} s")
    t0 = time.perf_counter()
    # Messages are indexed for search when first searched; do it now, as in a used workspace.
    ws.index.refresh_threads()
    ws.working_text()
    ws.close()
    seconds["threads"] = time.perf_counter() - t0
    say(f"bench_gen: threads indexed {seconds['threads']:.1f} s")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench: WORKING.md")
    seconds["total"] = time.perf_counter() - began
    thread_task = task_ids[max(range(n), key=messages_of.__getitem__)] if n else ""
    agents = [*AGENTS, IDLE_AGENT] if idle_agent else list(AGENTS)
    return Generated(params, task_ids, thread_task, agents, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=None, help="default: 5 per task")
    parser.add_argument(
        "--events", type=int, default=None, help="default: 10 per task; at least tasks + messages"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--commits", type=int, default=4, help="commits of records (default 4)")
    args = parser.parse_args()
    params = default_params(args.tasks, args.messages, args.events)
    params = Params(params.tasks, params.messages, params.events, args.seed, args.commits)
    generated = generate(args.dir.resolve(), params)
    print(json.dumps({"params": asdict(params), "seconds": generated.seconds}))


if __name__ == "__main__":
    main()
