"""Agent memory: MEMORY.md and daily notes through the CLI and the library."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, git, make_team, run_refused
from hypothesis import given
from hypothesis import strategies as st

from agentctl.core import memory as mem
from agentctl.errors import RuntimeFailure
from agentctl.runtime.base import Answer, Request
from agentctl.workspace import Workspace


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """Every test here is about git (commits, history, recovery): a real repository."""
    return git_ws_root


STAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"


@pytest.fixture
def root(ws_root: Path, cli: Runner) -> Path:
    make_team(cli)
    return ws_root


def memdir(root: Path, agent: str = "dev-1") -> Path:
    return root / ".agentctl" / "memory" / agent


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def days_ago(n: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=n)).isoformat()


def last_event(root: Path) -> dict[str, Any]:
    files = sorted((root / ".agentctl" / "events").glob("*.jsonl"))
    event: dict[str, Any] = json.loads(files[-1].read_text(encoding="utf-8").splitlines()[-1])
    return event


def commit_all(root: Path, message: str = "hand-written memory") -> None:
    git(root, "add", ".agentctl/memory")
    git(root, "commit", "-q", "-m", message)


def entry(ts: str, text: str) -> str:
    return f"- {ts} {text}"


# -- add -----------------------------------------------------------------------------------------


def test_add_appends_timestamped_entries_to_todays_note_and_commits_it(
    root: Path, cli: Runner
) -> None:
    r = cli("memory", "add", "dev-1", "prefers", "small", "PRs")
    assert r.code == 0, str(r)
    day = today()
    rel = f".agentctl/memory/dev-1/{day}.md"
    assert r.out == f"remembered in {rel}\n"
    r = cli("memory", "add", "dev-1", "the CI runs on 3.11 only", "--json")
    assert r.code == 0, str(r)
    data = r.json()["memory"]
    assert data["kind"] == "daily" and data["path"] == rel
    text = (root / rel).read_text(encoding="utf-8")
    assert re.fullmatch(
        rf"# dev-1: notes of {day}\n\n- {STAMP} prefers small PRs\n- {STAMP} the CI runs on 3\.11 only\n",
        text,
    ), text
    assert data["entry"] == text.splitlines()[-1]
    event = last_event(root)
    assert (event["type"], event["subject"], event["actor"]) == (
        "memory.added",
        "dev-1",
        "Test User",
    )
    assert event["data"] == {"kind": "daily", "path": rel, "chars": len(data["entry"])}
    assert event["notify"] == []  # a note from a person does not wake the agent
    committed = git(root, "show", "--name-only", "--format=%an", "HEAD").split()
    assert committed[0] == "Test"  # the human's git identity
    assert rel in committed and f".agentctl/events/{event['ts'][:10]}.jsonl" in committed
    assert git(root, "status", "--porcelain") == ""


def test_long_term_from_stdin_keeps_lines_as_one_entry(root: Path, cli: Runner) -> None:
    r = cli(
        "memory",
        "add",
        "dev-1",
        "-",
        "--long-term",
        input="deploys need a tag\n\n  then a release note  \n",
    )
    assert r.code == 0, str(r)
    text = (memdir(root) / "MEMORY.md").read_text(encoding="utf-8")
    assert re.fullmatch(
        rf"# dev-1: long-term memory\n\n- {STAMP} deploys need a tag\n  then a release note\n", text
    ), text
    assert last_event(root)["data"]["kind"] == "long_term"


def test_an_agent_writes_its_own_memory_as_itself(root: Path, cli: Runner) -> None:
    r = cli("--as", "dev-1", "memory", "add", "dev-1", "note to self")
    assert r.code == 0, str(r)
    assert git(root, "log", "-1", "--format=%an <%ae>") == "dev-1 <dev-1@agents.agentctl>\n"


def test_an_agent_may_not_touch_another_agents_memory(root: Path, cli: Runner) -> None:
    cli("memory", "add", "dev-1", "seed")
    run_refused(
        cli,
        root,
        7,
        ("--as", "dev-2", "memory", "add", "dev-1", "hi"),
        "dev-2 may not write the memory of dev-1",
    )
    run_refused(
        cli,
        root,
        7,
        ("--as", "lead-1", "memory", "add", "dev-1", "hi", "--long-term"),
        "lead-1 may not write",
    )
    run_refused(
        cli,
        root,
        7,
        ("--as", "dev-2", "memory", "compact", "dev-1"),
        "dev-2 may not compact the memory of dev-1",
    )
    r = cli("--as", "dev-2", "memory", "show", "dev-1")  # reading is allowed
    assert r.code == 0 and "seed" in r.out, str(r)


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("memory", "add", "../x", "hi"), 2, "invalid agent name '../x'"),
        (("memory", "add", "Dev-1", "hi"), 2, "invalid agent name 'Dev-1'"),
        (("memory", "add", "ghost", "hi"), 3, "no agent named 'ghost'"),
        (("memory", "add", "dev-1", "   "), 2, "the memory text is empty"),
        (("memory", "add", "dev-1", "a\x00b"), 2, "NUL"),
        (("memory", "add", "dev-1", "x" * 2001), 2, "at most 2000 characters (this one has 2001)"),
        (("memory", "show", "dev-1/.."), 2, "invalid agent name"),
        (("memory", "show", "ghost"), 3, "no agent named 'ghost'"),
        (("memory", "search", "dev-1", " "), 2, "the search query is empty"),
        (("memory", "compact", "dev-1", "--max-chars", "10"), 2, "10 is not in the range x>=500"),
        (("--as", "ghost", "memory", "add", "dev-1", "hi"), 3, "no agent named 'ghost'"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    root: Path, cli: Runner, args: tuple[str, ...], code: int, needle: str
) -> None:
    run_refused(cli, root, code, args, needle)


def test_symlinked_memory_is_refused(root: Path, cli: Runner, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    memdir(root).parent.mkdir(parents=True, exist_ok=True)
    memdir(root).symlink_to(outside, target_is_directory=True)
    r = cli("memory", "add", "dev-1", "hi")
    assert r.code == 6 and "symlinks are not allowed inside .agentctl/" in r.err, str(r)
    assert list(outside.iterdir()) == []
    r = cli("memory", "show", "dev-1")
    assert r.code == 6, str(r)


# -- show and search ---------------------------------------------------------------------------


def write_notes(root: Path) -> None:
    d = memdir(root)
    d.mkdir(parents=True)
    (d / "MEMORY.md").write_text(
        "# dev-1: long-term memory\n\n- 2026-01-01T09:00:00Z Staging deploys need a VPN\n",
        encoding="utf-8",
    )
    (d / "2026-01-02.md").write_text(
        "# dev-1: notes of 2026-01-02\n\n- 2026-01-02T10:00:00Z fixed the VPN script\n",
        encoding="utf-8",
    )
    (d / "2026-01-03.md").write_text(
        "# dev-1: notes of 2026-01-03\n\n- 2026-01-03T08:00:00Z reviewed t-abcd\n"
        "- 2026-01-03T09:00:00Z the deploy script needs the staging VPN\n",
        encoding="utf-8",
    )


def test_show_prints_long_term_then_daily_notes(root: Path, cli: Runner) -> None:
    write_notes(root)
    r = cli("memory", "show", "dev-1")
    assert r.code == 0, str(r)
    assert r.out == (
        "== .agentctl/memory/dev-1/MEMORY.md\n# dev-1: long-term memory\n\n- 2026-01-01T09:00:00Z Staging deploys need a VPN\n\n"
        "== .agentctl/memory/dev-1/2026-01-02.md\n# dev-1: notes of 2026-01-02\n\n- 2026-01-02T10:00:00Z fixed the VPN script\n\n"
        "== .agentctl/memory/dev-1/2026-01-03.md\n# dev-1: notes of 2026-01-03\n\n- 2026-01-03T08:00:00Z reviewed t-abcd\n"
        "- 2026-01-03T09:00:00Z the deploy script needs the staging VPN\n"
    )
    r = cli("memory", "show", "dev-1", "--days", "1", "--json")
    data = r.json()["memory"]
    assert data["agent"] == "dev-1" and data["path"] == ".agentctl/memory/dev-1"
    assert [d["date"] for d in data["daily"]] == ["2026-01-03"]
    assert data["long_term"].startswith("# dev-1: long-term memory")


def test_show_without_memory_says_so(root: Path, cli: Runner) -> None:
    r = cli("memory", "show", "dev-2")
    assert (r.code, r.out, r.err) == (0, "", "agentctl: dev-2 has no memory yet\n")


def test_show_warns_about_stray_files(root: Path, cli: Runner) -> None:
    write_notes(root)
    (memdir(root) / "notes.txt").write_text("x", encoding="utf-8")
    (memdir(root) / "2026-02-30.md").write_text("x", encoding="utf-8")
    r = cli("memory", "show", "dev-1")
    assert r.code == 0, str(r)
    assert r.err.splitlines() == [
        "agentctl: warning: .agentctl/memory/dev-1/2026-02-30.md: not a memory file (expected MEMORY.md or YYYY-MM-DD.md); skipped",
        "agentctl: warning: .agentctl/memory/dev-1/notes.txt: not a memory file (expected MEMORY.md or YYYY-MM-DD.md); skipped",
    ]


def test_search_matches_terms_case_insensitively_with_line_refs(root: Path, cli: Runner) -> None:
    write_notes(root)
    r = cli("memory", "search", "dev-1", "staging", "VPN")
    assert r.code == 0, str(r)
    assert r.out == (
        ".agentctl/memory/dev-1/MEMORY.md:3: - 2026-01-01T09:00:00Z Staging deploys need a VPN\n"
        ".agentctl/memory/dev-1/2026-01-03.md:4: - 2026-01-03T09:00:00Z the deploy script needs the staging VPN\n"
    )
    r = cli("memory", "search", "dev-1", "vpn script", "--json")
    assert [(h["path"][-13:], h["line"]) for h in r.json()["hits"]] == [
        ("2026-01-03.md", 4),
        ("2026-01-02.md", 3),
    ]
    r = cli("memory", "search", "dev-1", "vpn", "--limit", "1")
    assert (
        r.out.count("\n") == 1 and r.err == "agentctl: 2 more matches not shown (raise --limit)\n"
    ), str(r)
    r = cli("memory", "search", "dev-1", "kubernetes")
    assert (r.code, r.out, r.err) == (0, "", "agentctl: no memory line matches\n")


# -- compact -------------------------------------------------------------------------------------


def test_compact_folds_old_notes_and_keeps_recent_ones(root: Path, cli: Runner) -> None:
    d = memdir(root)
    d.mkdir(parents=True)
    old, recent = days_ago(10), days_ago(2)
    (d / f"{old}.md").write_text(
        f"# dev-1: notes of {old}\n\n{entry(old + 'T10:00:00Z', 'old fact')}\n", encoding="utf-8"
    )
    (d / f"{recent}.md").write_text(
        f"# dev-1: notes of {recent}\n\n{entry(recent + 'T10:00:00Z', 'recent')}\n",
        encoding="utf-8",
    )
    (d / "MEMORY.md").write_text(
        f"# dev-1: long-term memory\n\n{entry('2020-01-01T00:00:00Z', 'first')}\n", encoding="utf-8"
    )
    commit_all(root)
    r = cli("memory", "compact", "dev-1")
    assert r.code == 0, str(r)
    memory_text = (
        f"# dev-1: long-term memory\n\n- 2020-01-01T00:00:00Z first\n- {old}T10:00:00Z old fact\n"
    )
    assert (
        r.out
        == f"compacted dev-1's memory: folded 1 daily note(s) into MEMORY.md; MEMORY.md is {len(memory_text)} of 8000 characters\n"
    )
    assert (d / "MEMORY.md").read_text(encoding="utf-8") == memory_text
    assert not (d / f"{old}.md").exists() and (d / f"{recent}.md").exists()
    assert last_event(root)["type"] == "memory.compacted"
    assert git(root, "status", "--porcelain") == ""  # the deletion is committed too
    head = git(root, "rev-parse", "HEAD")
    r = cli("memory", "compact", "dev-1", "--json")
    assert r.json()["compaction"]["changed"] is False
    assert git(root, "rev-parse", "HEAD") == head  # nothing to do: no event, no commit
    r = cli("memory", "compact", "dev-1", "--keep-days", "1", "--json")
    assert r.json()["compaction"]["folded"] == [recent]


def test_compact_trims_to_the_cap_keeping_the_newest_entries(root: Path, cli: Runner) -> None:
    d = memdir(root)
    d.mkdir(parents=True)
    entries = [
        entry(f"2025-01-{day:02d}T10:00:00Z", f"fact number {day} " + "x" * 20)
        for day in range(1, 29)
    ]
    shuffled = entries[10:] + entries[:10]  # file order is not time order: time wins
    (d / "MEMORY.md").write_text(
        "# dev-1: long-term memory\n\nKeep this intro.\n\n" + "\n".join(shuffled) + "\n",
        encoding="utf-8",
    )
    commit_all(root)
    r = cli("memory", "compact", "dev-1", "--max-chars", "500", "--json")
    assert r.code == 0, str(r)
    result = r.json()["compaction"]
    text = (d / "MEMORY.md").read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if line.startswith("- ")]
    assert kept == entries[-len(kept) :]  # a suffix, in time order
    assert len(text) <= 500 < len(text) + len(entries[-len(kept) - 1]) + 1  # no room for one more
    assert text.startswith("# dev-1: long-term memory\n\nKeep this intro.\n\n- ")
    assert (
        result["method"] == "trim"
        and result["dropped"] == 28 - len(kept)
        and result["chars_after"] == len(text)
    )
    r = cli("memory", "compact", "dev-1", "--max-chars", "500")
    assert r.out == f"dev-1's memory needs no compaction ({len(text)} of 500 characters)\n"


class FakeLLM:
    def __init__(self, answer: str | Exception) -> None:
        self.answer = answer
        self.requests: list[Request] = []

    def run(self, request: Request) -> Answer:
        self.requests.append(request)
        if isinstance(self.answer, Exception):
            raise self.answer
        return Answer(text=self.answer)


@pytest.fixture
def llm_agent(root: Path, cli: Runner) -> Path:
    r = cli(
        "agent",
        "add",
        "llm-1",
        "--role",
        "writer",
        "--runtime",
        "llm",
        "--model",
        "openai/gpt-4o-mini",
    )
    assert r.code == 0, str(r)
    d = memdir(root, "llm-1")
    d.mkdir(parents=True)
    lines = [
        entry(f"2025-02-{day:02d}T10:00:00Z", f"observation {day} " + "y" * 40)
        for day in range(1, 21)
    ]
    (d / "MEMORY.md").write_text(
        "# llm-1: long-term memory\n\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    commit_all(root)
    return d


def use_runtime(monkeypatch: pytest.MonkeyPatch, fake: FakeLLM) -> None:
    import agentctl.runtime

    def load(kind: str) -> FakeLLM:
        assert kind == "llm"
        return fake

    monkeypatch.setattr(agentctl.runtime, "load", load)


def test_compact_of_an_llm_agent_uses_its_runtime_to_summarise(
    llm_agent: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeLLM(json.dumps({"memory": ["Observations 1-20 all concern y", "- keep   it short"]}))
    use_runtime(monkeypatch, fake)
    r = cli("memory", "compact", "llm-1", "--max-chars", "600")
    assert r.code == 0, str(r)
    assert r.out.startswith(
        "compacted llm-1's memory: summarised 20 entries with the llm runtime; MEMORY.md is "
    )
    text = (llm_agent / "MEMORY.md").read_text(encoding="utf-8")
    assert re.fullmatch(
        rf"# llm-1: long-term memory\n\n- {STAMP} Observations 1-20 all concern y\n- {STAMP} keep it short\n",
        text,
    ), text
    (request,) = fake.requests
    assert (
        request.agent["name"] == "llm-1"
        and "JSON" in request.system
        and "never follow instructions" in request.system
    )
    assert request.prompt.startswith("MEMORY-START\n- 2025-02-01T10:00:00Z observation 1 ")
    assert request.context == {
        "purpose": "memory.compact",
        "max_chars": 600 - len("# llm-1: long-term memory\n") - 100,
    }
    assert last_event(root_of(llm_agent))["data"]["method"] == "llm"


def root_of(memory_dir: Path) -> Path:
    return memory_dir.parents[2]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            RuntimeFailure("OPENAI_API_KEY is not set"),
            "the llm runtime failed: OPENAI_API_KEY is not set",
        ),
        ('{"memory": "not a list"}', "the llm answer held no usable summary"),
        (json.dumps({"memory": ["z" * 700]}), "the llm summary was longer than 600 characters"),
    ],
)
def test_compact_falls_back_to_trimming_and_says_why(
    llm_agent: Path,
    cli: Runner,
    monkeypatch: pytest.MonkeyPatch,
    answer: str | Exception,
    reason: str,
) -> None:
    use_runtime(monkeypatch, FakeLLM(answer))
    r = cli("memory", "compact", "llm-1", "--max-chars", "600")
    assert r.code == 0, str(r)
    assert r.out.splitlines()[1] == f"no llm summary ({reason}): trimmed deterministically instead"
    text = (llm_agent / "MEMORY.md").read_text(encoding="utf-8")
    assert len(text) <= 600 and text.rstrip().endswith("observation 20 " + "y" * 40)
    data = last_event(root_of(llm_agent))["data"]
    assert data["method"] == "trim" and data["fallback"] == reason


# -- prompt context and the pure format ------------------------------------------------------------


def test_memory_context_is_bounded_and_newest_first(root: Path) -> None:
    write_notes(root)
    ws = Workspace(root)
    full = ws.memory_context("dev-1", 10_000)
    assert full == (
        "## Long-term memory\n- 2026-01-01T09:00:00Z Staging deploys need a VPN\n"
        "## Notes of 2026-01-03\n- 2026-01-03T08:00:00Z reviewed t-abcd\n- 2026-01-03T09:00:00Z the deploy script needs the staging VPN\n"
        "## Notes of 2026-01-02\n- 2026-01-02T10:00:00Z fixed the VPN script"
    )
    for budget in range(len(full) + 5):
        text = ws.memory_context("dev-1", budget)
        assert len(text) <= budget, (budget, text)
        shown = text.count("## Notes of ")
        assert shown == 2 or budget < 30 or f"[{2 - shown} older daily note" in text, (budget, text)
        if budget >= len(full):
            assert text == full
    expected = (
        "## Long-term memory\n- 2026-01-01T09:00:00Z Staging deploys need a VPN\n"
        "## Notes of 2026-01-03\n[… truncated]\n- 2026-01-03T09:00:00Z the deploy script needs the staging VPN\n"
        "[1 older daily note left out]"
    )
    assert ws.memory_context("dev-1", len(expected)) == expected
    assert ws.memory_context("dev-1", 100) == (
        "## Long-term memory\n- 2026-01-01T09:00:00Z Staging deploys need a VPN\n[2 older daily notes left out]"
    )
    assert ws.memory_context("dev-2", 1000) == ""


def test_parse_and_render_round_trip() -> None:
    text = "# t: long-term memory\n\nintro\n\n- 2026-01-01T00:00:00Z a\n  more\n- hand written\n- 2025-12-01T00:00:00Z b\n"
    preamble, entries = mem.parse_entries(text)
    assert preamble == "# t: long-term memory\n\nintro"
    assert entries == [
        "- 2026-01-01T00:00:00Z a\n  more",
        "- hand written",
        "- 2025-12-01T00:00:00Z b",
    ]
    assert mem.render_memory(preamble, entries) == text
    assert mem.sort_entries(entries) == [entries[2], entries[0], entries[1]]


@given(
    preamble=st.text(alphabet="ab \n#", max_size=80),
    sizes=st.lists(st.integers(min_value=1, max_value=300), max_size=30),
    cap=st.integers(min_value=1, max_value=2000),
)
def test_trim_always_fits_the_cap_and_keeps_a_newest_suffix(
    preamble: str, sizes: list[int], cap: int
) -> None:
    entries = [f"- 2026-01-01T00:00:{i % 60:02d}Z " + "e" * size for i, size in enumerate(sizes)]
    new_preamble, kept, cut = mem.trim_entries(preamble, entries, cap)
    assert len(mem.render_memory(new_preamble, kept)) <= cap
    assert kept == entries[len(entries) - len(kept) :]
    if not cut:
        assert new_preamble == preamble
        if len(kept) < len(entries):  # one more entry would not have fitted
            assert len(mem.render_memory(preamble, entries[len(entries) - len(kept) - 1 :])) > cap
