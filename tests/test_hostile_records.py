"""Records that cannot hurt: YAML alias bombs, oversized files, symlinks and control characters.

A record can arrive by hand or by ``git pull`` from someone else's clone; whatever it holds, it
must not stall the tool, must not pull outside files in, and must not drive the terminal.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Runner, add_task, git, make_git_repo, make_team, snapshot

from agentctl.errors import UsageError, ValidationError
from agentctl.store import frontmatter
from agentctl.store.reading import MAX_RECORD_BYTES

ESC_TITLE = "evil \x1b]0;pwned\x07 \x1b[31mred\x1b[0m \u202etxt.exe"
HOSTILE = ("\x1b[2J", "\x1b]0;owned\x07", "\x07", "\u202e", "\x9b", "\x00", "\x7f")
MEMORY_CAP = 1 << 30  # bytes of address space a subprocess may use


def bomb(levels: int = 9, indent: str = "") -> str:
    """A "billion laughs" YAML block: each level refers nine times to the one before."""
    lines = [f'{indent}l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        refs = ",".join([f"*l{level - 1}"] * 9)
        lines.append(f"{indent}l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.fixture
def root(tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace without git (cwd is its root) with the standard team."""
    ws = tmp_path / "ws"
    ws.mkdir()
    monkeypatch.chdir(ws)
    result = cli("init")
    assert result.code == 0, str(result)
    make_team(cli)
    return ws


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def proc(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m agentctl`` with a 20 s timeout and a 1 GiB address-space cap."""
    return subprocess.run(
        [sys.executable, "-m", "agentctl", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=20,
        preexec_fn=_limited,  # noqa: PLW1509 - a resource limit only, no threads started yet
        check=False,
    )


# -- alias bombs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loader",
    [
        lambda text: frontmatter.load_fast(text, "x.md"),
        lambda text: frontmatter.Document.parse(text, "x.md"),
    ],
    ids=["fast", "round-trip"],
)
def test_frontmatter_loaders_refuse_an_alias_bomb_naming_the_line(loader: object) -> None:
    text = "---\nid: t-x\n" + bomb() + "---\nbody\n"
    with pytest.raises(ValidationError) as info:
        loader(text)  # type: ignore[operator]
    assert info.value.path == "x.md"
    assert info.value.line == 4  # the first line that uses an alias
    assert "alias" in info.value.problem


@pytest.mark.parametrize("loader", [frontmatter.load_yaml_fast, frontmatter.load_yaml_roundtrip])
def test_plain_yaml_loaders_refuse_alias_bombs(loader: object) -> None:
    with pytest.raises(ValidationError, match="too many aliases"):
        loader(bomb(), "c.yaml")  # type: ignore[operator]


def test_recursive_aliases_are_refused() -> None:
    # The round-trip loader reads a recursive alias as null; the fast one would build a
    # structure that contains itself, which no record reader could expand.
    for text in ("a: &a [1, *a]\n", "a: &a {b: *a}\n"):
        with pytest.raises(ValidationError, match="recursive alias"):
            frontmatter.load_yaml_fast(text, "c.yaml")
    with pytest.raises(ValidationError, match="recursive alias"):
        frontmatter.load_fast("---\nid: x\na: &a [1, *a]\n---\n", "x.md")


def test_a_few_aliases_are_still_fine() -> None:
    text = "---\nid: t-x\nbase: &b {x: 1}\none: *b\ntwo: *b\n---\n"
    data, _ = frontmatter.load_fast(text, "x.md")
    assert data["two"] == {"x": 1}
    assert frontmatter.load_yaml_fast("a: &a [1]\nb: *a\n", "c.yaml") == {"a": [1], "b": [1]}


def _task_text(task_id: str, extra: str = "", title: str = "planted") -> str:
    return (
        f"---\nid: {task_id}\ntitle: {json.dumps(title)}\nstatus: inbox\ncreated_by: tester\n"
        f"created_at: '2026-01-01T00:00:00Z'\nupdated_at: '2026-01-01T00:00:00Z'\n{extra}---\nbody\n"
    )


BOMB_FILES = {
    "task": (
        ".agentctl/tasks/t-bbbbbbbbbbbb.md",
        "---\nid: t-bbbbbbbbbbbb\ntitle: boom\nstatus: inbox\n" + bomb() + "labels: *l8\n---\n",
    ),
    "agent": (
        ".agentctl/agents/bomber.md",
        "---\nname: bomber\nrole: x\ncreated_at: '2026-01-01T00:00:00Z'\n"
        + bomb()
        + "capabilities: *l8\n---\n",
    ),
    "doc": (
        ".agentctl/docs/d-bbbbbbbbbbbb.md",
        "---\nid: d-bbbbbbbbbbbb\ntitle: boom\n" + bomb() + "---\n",
    ),
    "state": (".agentctl/agents/dev-1.state.yaml", "status: idle\n" + bomb()),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(BOMB_FILES))
def test_an_alias_bomb_never_stalls_reads_validate_or_unrelated_writes(
    root: Path, kind: str
) -> None:
    rel, text = BOMB_FILES[kind]
    (root / rel).write_text(text, encoding="utf-8")
    listing = {
        "task": ("task", "list"),
        "agent": ("agent", "list"),
        "doc": ("doc", "list"),
        "state": ("agent", "list"),
    }[kind]
    for args in (listing, ("validate",), ("task", "add", "unrelated work"), listing):
        result = proc(root, *args)
        assert "Traceback" not in result.stderr, result.stderr
        if args == ("validate",):
            assert result.returncode == 6, result.stderr + result.stdout
            assert f"{rel}:" in result.stdout and "alias" in result.stdout, result.stdout
        else:
            assert result.returncode == 0, result.stderr
        if args == listing:  # read-only listings warn and go on; writes to other records just work
            assert f"{rel}:" in result.stderr and "alias" in result.stderr, result.stderr
    assert "unrelated work" in proc(root, "task", "list").stdout


def test_an_alias_bomb_in_the_config_is_refused(root: Path, cli: Runner) -> None:
    config = root / ".agentctl" / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8") + bomb() + "extra: *l8\n", encoding="utf-8"
    )
    result = cli("task", "list")
    assert result.code == 6, str(result)
    assert ".agentctl/config.yaml:" in result.err and "alias" in result.err


# -- record size ----------------------------------------------------------------------------------


def test_an_oversized_record_is_a_named_problem_and_never_loaded(root: Path, cli: Runner) -> None:
    rel = ".agentctl/tasks/t-hhhhhhhhhhhh.md"
    text = _task_text("t-hhhhhhhhhhhh")
    (root / rel).write_text(text + "x" * (MAX_RECORD_BYTES - len(text) + 1), encoding="utf-8")
    listing = cli("task", "list")
    assert listing.code == 0, str(listing)
    assert f"{rel}: too large" in listing.err, str(listing)
    assert "planted" not in listing.out
    assert cli("task", "add", "still works").code == 0
    shown = cli("task", "show", "t-hhhh")
    assert shown.code == 6 and "too large" in shown.err, str(shown)
    checked = cli("validate")
    assert checked.code == 6 and f"{rel}: too large" in checked.out, str(checked)


def test_a_record_at_the_limit_loads(root: Path, cli: Runner) -> None:
    text = _task_text("t-hhhhhhhhhhhh")
    (root / ".agentctl/tasks/t-hhhhhhhhhhhh.md").write_text(
        text + "x" * (MAX_RECORD_BYTES - len(text)), encoding="utf-8"
    )
    listing = cli("task", "list")
    assert listing.code == 0 and listing.err == "" and "planted" in listing.out, str(listing)


def test_a_write_that_would_exceed_the_limit_is_refused(root: Path, cli: Runner) -> None:
    before = snapshot(root)
    result = cli("task", "add", "big", "-d", "-", input="y" * (MAX_RECORD_BYTES + 10))
    assert result.code == 2 and "too large" in result.err, str(result)
    assert snapshot(root) == before


# -- symlinks -------------------------------------------------------------------------------------


def test_an_agent_symlinked_outside_grants_nothing(root: Path, tmp_path: Path, cli: Runner) -> None:
    outside = tmp_path / "outside-boss.md"
    outside.write_text(
        "---\nname: boss\nrole: boss\nlevel: lead\ncreated_at: '2026-01-01T00:00:00Z'\n---\npersona\n",
        encoding="utf-8",
    )
    (root / ".agentctl/agents/boss.md").symlink_to(outside)
    before = snapshot(root)
    acted = cli("--as", "boss", "task", "add", "power grab", "--assign", "dev-1")
    assert acted.code == 6, str(acted)
    assert ".agentctl/agents/boss.md" in acted.err and "symlink" in acted.err, str(acted)
    assert snapshot(root) == before
    env = cli("task", "add", "power grab", "--assign", "dev-1", env={"AGENTCTL_AGENT": "boss"})
    assert env.code == 6, str(env)
    listing = cli("--json", "agent", "list")
    assert "boss" not in [a["name"] for a in listing.json()["agents"]]
    assert ".agentctl/agents/boss.md" in listing.err
    checked = cli("validate")
    assert checked.code == 6 and ".agentctl/agents/boss.md" in checked.out, str(checked)


def test_a_thread_directory_symlinked_outside_is_never_read(
    root: Path, tmp_path: Path, cli: Runner
) -> None:
    source = add_task(cli, "has a real thread", "--assign", "dev-1")
    target = add_task(cli, "victim", "--assign", "dev-1")
    assert cli("task", "comment", source, "an ordinary comment").code == 0
    outside = tmp_path / "outside-thread"
    outside.mkdir()
    for message in (root / ".agentctl/threads" / source).iterdir():
        text = (
            message.read_text(encoding="utf-8")
            .replace(source, target)
            .replace("an ordinary comment", "SECRETOUTSIDE")
        )
        (outside / message.name).write_text(text, encoding="utf-8")
    (root / ".agentctl/threads" / target).symlink_to(outside, target_is_directory=True)
    thread = cli("thread", target)
    assert "SECRETOUTSIDE" not in thread.out + thread.err, str(thread)
    found = cli("--json", "search", "SECRETOUTSIDE")
    assert found.code == 0 and found.json()["hits"] == [], str(found)
    primed = cli("prime", "--agent", "dev-1")
    assert "SECRETOUTSIDE" not in primed.out, str(primed)
    checked = cli("validate")
    assert checked.code == 6 and f".agentctl/threads/{target}: symlink" in checked.out, str(checked)


def test_a_symlinked_task_file_is_refused(root: Path, tmp_path: Path, cli: Runner) -> None:
    outside = tmp_path / "t-ssssssssssss.md"
    outside.write_text(_task_text("t-ssssssssssss", title="smuggled"), encoding="utf-8")
    rel = ".agentctl/tasks/t-ssssssssssss.md"
    (root / rel).symlink_to(outside)
    listing = cli("task", "list")
    assert listing.code == 0 and "smuggled" not in listing.out, str(listing)
    assert f"{rel}: symlink" in listing.err
    shown = cli("task", "show", "t-ssss")
    assert shown.code == 6 and "symlink" in shown.err, str(shown)
    moved = cli("task", "move", "t-ssss", "assigned")
    assert moved.code == 6, str(moved)
    assert outside.read_text(encoding="utf-8") == _task_text("t-ssssssssssss", title="smuggled")
    checked = cli("validate")
    assert checked.code == 6 and f"{rel}: symlink" in checked.out, str(checked)


def test_symlinks_in_logs_docs_memory_and_record_directories_are_reported(
    root: Path, tmp_path: Path, cli: Runner
) -> None:
    outside_log = tmp_path / "log.jsonl"
    outside_log.write_text(
        json.dumps({"id": "e-zzzzzzzzzzzz", "ts": "2026-01-01T00:00:00Z", "actor": "x", "type": "note.added",
                    "subject": None, "data": {"text": "OUTSIDEEVENT"}, "notify": []}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    (root / ".agentctl/events/2026-01-01.jsonl").symlink_to(outside_log)
    (root / ".agentctl/inbox/dev-2.jsonl").symlink_to(outside_log)
    specs = tmp_path / "specs"
    specs.mkdir()
    (root / ".agentctl/specs/linked").symlink_to(specs, target_is_directory=True)
    feed = cli("feed")
    assert "OUTSIDEEVENT" not in feed.out, str(feed)
    checked = cli("validate")
    assert checked.code == 6, str(checked)
    for rel in (
        ".agentctl/events/2026-01-01.jsonl",
        ".agentctl/inbox/dev-2.jsonl",
        ".agentctl/specs/linked",
    ):
        assert f"{rel}: symlink" in checked.out, str(checked)


def test_a_symlinked_record_directory_is_not_scanned(
    root: Path, tmp_path: Path, cli: Runner
) -> None:
    add_task(cli, "inside task")
    docs = root / ".agentctl/docs"
    outside = tmp_path / "docs"
    outside.mkdir()
    (outside / "d-ssssssssssss.md").write_text(
        "---\nid: d-ssssssssssss\ntitle: smuggled doc\ntype: research\nauthor: x\n"
        "created_at: '2026-01-01T00:00:00Z'\nupdated_at: '2026-01-01T00:00:00Z'\n---\nOUTSIDEDOC\n",
        encoding="utf-8",
    )
    docs.rmdir()
    docs.symlink_to(outside, target_is_directory=True)
    listing = cli("doc", "list")
    assert "smuggled" not in listing.out and ".agentctl/docs: symlink" in listing.err, str(listing)
    assert cli("--json", "search", "OUTSIDEDOC").json()["hits"] == []


def test_a_symlinked_config_is_refused(root: Path, tmp_path: Path, cli: Runner) -> None:
    config = root / ".agentctl/config.yaml"
    outside = tmp_path / "config.yaml"
    outside.write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
    config.unlink()
    config.symlink_to(outside)
    result = cli("task", "list")
    assert result.code == 6 and ".agentctl/config.yaml" in result.err and "symlink" in result.err, (
        str(result)
    )


def test_a_symlinked_working_file_is_neither_read_nor_written_through(
    root: Path, tmp_path: Path, cli: Runner
) -> None:
    outside = tmp_path / "notes.md"
    outside.write_text(
        "OUTSIDE NOTES\n<!-- agentctl:notes:start -->\nOUTSIDENOTE\n<!-- agentctl:notes:end -->\n",
        encoding="utf-8",
    )
    working = root / "WORKING.md"
    working.unlink()
    working.symlink_to(outside)
    before = outside.read_bytes()
    result = cli("task", "add", "after the link")
    assert result.code == 0, str(result)
    assert outside.read_bytes() == before
    assert not working.is_symlink()
    assert "OUTSIDENOTE" not in working.read_text(encoding="utf-8")
    assert "WORKING.md" in result.err and "symlink" in result.err


# -- control characters -----------------------------------------------------------------------------


def _refused(cli: Runner, root: Path, field: str, *args: str, input: str | None = None) -> None:
    before = snapshot(root)
    result = cli(*args, input=input)
    assert result.code == 2, str(result)
    assert field in result.err and "control character" in result.err, str(result)
    assert snapshot(root) == before, f"files changed after a refused command\n{result}"


@pytest.mark.parametrize("bad", HOSTILE, ids=[repr(c) for c in HOSTILE])
def test_control_characters_are_refused_in_every_cli_text_field(
    root: Path, cli: Runner, bad: str
) -> None:
    task = add_task(cli, "a task", "--assign", "dev-1")
    doc = cli("--json", "doc", "add", "a doc", "--type", "research", input="text\n").json()["doc"][
        "id"
    ]
    text = f"x{bad}y"
    _refused(cli, root, "title", "task", "add", text)
    _refused(cli, root, "description", "task", "add", "ok", "-d", text)
    _refused(cli, root, "label", "task", "add", "ok", "-l", text)
    _refused(cli, root, "acceptance criterion", "task", "add", "ok", "--ac", text)
    _refused(cli, root, "title", "task", "edit", task, "--title", text)
    _refused(cli, root, "description", "task", "edit", task, "-d", text)
    _refused(cli, root, "label", "task", "edit", task, "-l", text)
    _refused(cli, root, "note", "task", "move", task, "in_progress", "--note", text)
    _refused(cli, root, "comment", "task", "comment", task, text)
    _refused(cli, root, "title", "doc", "add", text, "--type", "research", input="body\n")
    _refused(cli, root, "document", "doc", "add", "ok", "--type", "research", input=text)
    _refused(cli, root, "title", "doc", "edit", doc, "--title", text)
    _refused(cli, root, "note", "note", text)
    _refused(cli, root, "memory", "memory", "add", "dev-1", text)
    _refused(cli, root, "role", "agent", "add", "newbie", "--role", text)
    _refused(cli, root, "capability", "agent", "add", "newbie", "--role", "dev", "-c", text)
    _refused(cli, root, "role", "agent", "edit", "dev-1", "--role", text)


def test_a_workspace_name_with_control_characters_is_refused(tmp_path: Path, cli: Runner) -> None:
    result = cli("init", str(tmp_path / "ws"), "--name", "x\x1b]0;t\x07")
    assert result.code == 2 and "workspace name" in result.err, str(result)
    assert not (tmp_path / "ws" / ".agentctl").exists()


def test_newlines_and_tabs_stay_allowed_in_bodies_but_not_in_one_line_fields(
    root: Path, cli: Runner
) -> None:
    task = add_task(cli, "a task", "-d", "line one\n\tindented\nline three")
    assert "\tindented" in cli("task", "show", task).out
    _refused_line = cli("task", "add", "tab\there")
    assert _refused_line.code == 2 and "title" in _refused_line.err, str(_refused_line)
    assert cli("task", "comment", task, "a\n\tb").code == 0


def test_the_workspace_api_and_the_tui_gateway_refuse_control_characters(root: Path) -> None:
    from agentctl.core.rules import Actor
    from agentctl.tui.gateway import Gateway
    from agentctl.workspace import Workspace

    ws = Workspace.open(str(root))
    human = Actor("tester")
    with pytest.raises(UsageError, match="title"):
        ws.add_task(human, ESC_TITLE)
    task = ws.add_task(human, "fine")
    with pytest.raises(UsageError, match="comment"):
        ws.comment(human, task["id"], "hi \x1b[2J")
    with pytest.raises(UsageError, match="role"):
        ws.edit_agent(human, "dev-1", {"role": "x\u202ey"})
    with pytest.raises(UsageError, match="persona"):
        ws.add_agent(human, "newbie", "dev", persona="hello \x1b]8;;http://evil\x07")
    gateway = Gateway(ws)  # the board's write path (on its own thread, as in the app)
    try:
        gateway.run_sync(gateway.open)
        with pytest.raises(UsageError, match="title"):
            gateway.run_sync(gateway.create, ESC_TITLE)
        with pytest.raises(UsageError, match="description"):
            gateway.run_sync(gateway.create, "ok", description="\x1b[2J")
        with pytest.raises(UsageError, match="comment"):
            gateway.run_sync(gateway.comment, task["id"], "\x07ring")
        assert [t["title"] for t in gateway.run_sync(ws.list_tasks)] == ["fine"]
    finally:
        gateway.close()


def _plant_hostile_task(root: Path) -> str:
    task_id = "t-eeeeeeeeeeee"
    body = "\n## Description\n\nbody \x1b[2J with \u202e bidi\n"
    (root / ".agentctl/tasks" / f"{task_id}.md").write_text(
        _task_text(task_id, title=ESC_TITLE).replace("---\nbody\n", "---\n" + body),
        encoding="utf-8",
    )
    return task_id


def _assert_neutral(text: str) -> None:
    for char in ("\x1b", "\x07", "\u202e", "\x9b"):
        assert char not in text, repr(text)


def test_hand_written_control_characters_never_reach_the_terminal(root: Path, cli: Runner) -> None:
    task_id = _plant_hostile_task(root)
    for args in (
        ("task", "list"),
        ("task", "show", task_id),
        ("board", "--plain"),
        ("--json", "task", "show", task_id),
    ):
        result = cli(*args)
        assert result.code == 0, str(result)
        _assert_neutral(result.out + result.err)
    shown = cli("--json", "task", "show", task_id).json()
    assert shown["task"]["title"] == ESC_TITLE  # JSON escapes keep the data exact
    assert cli("task", "move", task_id, "assigned").code == 0
    _assert_neutral(cli("feed").out)
    _assert_neutral((root / "WORKING.md").read_text(encoding="utf-8"))
    assert "pwned" in (root / "WORKING.md").read_text(encoding="utf-8")


def test_hand_written_control_characters_never_reach_a_commit_subject(
    tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_git_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    assert cli("init").code == 0
    task_id = _plant_hostile_task(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "pulled from a hostile clone")
    assert cli("task", "move", task_id, "assigned").code == 0
    message = git(repo, "log", "-1", "--format=%B")
    assert "pwned" in message
    _assert_neutral(message)


def test_the_one_text_rule_is_shared_with_the_action_schema() -> None:
    from agentctl.core import actions, text

    assert actions.CONTROL_CHARS is text.CONTROL_CHARS  # type: ignore[attr-defined]
    assert text.neutralise("a\x1b[31mb\u202ec\nd\te") == "a\\u001b[31mb\\u202ec\nd\te"
    assert text.neutralise("ascii\x7f\x07 and\r\nCRLF") == "ascii\\u007f\\u0007 and\nCRLF"
    assert text.neutralise("plain\ttext\n") == "plain\ttext\n"
    assert json.loads(text.neutralise(json.dumps({"t": "\x9b\u202e"}, ensure_ascii=False))) == {
        "t": "\x9b\u202e"
    }
    with pytest.raises(UsageError, match="title"):
        text.check_line("a\tb", "title")
    assert text.check_text("a\n\tb", "description") == "a\n\tb"
    assert os.sep  # the module stays importable without the CLI


def test_the_board_shows_hand_written_control_characters_escaped(root: Path) -> None:
    from agentctl.tui.gateway import Gateway
    from agentctl.tui.view import ViewOptions
    from agentctl.workspace import Workspace

    _plant_hostile_task(root)
    gateway = Gateway(Workspace.open(str(root)))
    try:
        gateway.run_sync(gateway.open)
        snapshot_ = gateway.run_sync(gateway.snapshot, ViewOptions())
        titles = [card.title for column in snapshot_.board.columns for card in column.cards]
        assert any("pwned" in title for title in titles)
        _assert_neutral("".join(titles))
        detail = gateway.run_sync(gateway.task_detail, "t-eeeeeeeeeeee")
        assert "\x1b" in detail["title"]  # the gateway keeps the data; the screens escape it
    finally:
        gateway.close()
    from agentctl.core.text import neutralise_data

    _assert_neutral(json.dumps(neutralise_data(detail), ensure_ascii=False))


def test_a_memory_directory_symlinked_outside_is_never_read(
    root: Path, tmp_path: Path, cli: Runner
) -> None:
    outside = tmp_path / "memory"
    outside.mkdir()
    (outside / "MEMORY.md").write_text(
        "# Memory\n\n- 2026-01-01T00:00:00Z OUTSIDEMEMORY\n", encoding="utf-8"
    )
    memory = root / ".agentctl/memory"
    memory.mkdir(exist_ok=True)
    (memory / "dev-1").symlink_to(outside, target_is_directory=True)
    for args in (
        ("memory", "show", "dev-1"),
        ("prime", "--agent", "dev-1"),
        ("memory", "add", "dev-1", "hello"),
    ):
        result = cli(*args)
        assert "OUTSIDEMEMORY" not in result.out + result.err, str(result)
        assert result.code == 6 and "symlink" in result.err, str(result)
    assert "OUTSIDEMEMORY" in (outside / "MEMORY.md").read_text(encoding="utf-8")
    assert len(list(outside.iterdir())) == 1  # nothing written through the link
    checked = cli("validate")
    assert checked.code == 6 and ".agentctl/memory/dev-1: symlink" in checked.out, str(checked)
