"""Start-up cuts of issue 15 that must not change behaviour: command groups convert only the
subcommand asked for (help and the command tree are typer's own), and the regular expressions
rewritten to compile faster match exactly the characters the originals matched."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from conftest import Runner, add_task

from agentctl.cli import app as cli_app
from agentctl.cli import tasks as task_commands
from agentctl.core import graph_render
from agentctl.store import index_text


def _sample() -> list[str]:
    """Every character up to U+3100, then every 61st to U+10FFFF (surrogates included)."""
    return [chr(c) for c in [*range(0x3100), *range(0x3100, 0x110000, 61), 0x10FFFF]]


def test_bareword_class_is_the_original_set() -> None:
    original = re.compile(r"[0-9A-Za-z_\u0080-\U0010ffff]+")
    for char in _sample():
        assert bool(index_text._BAREWORD.fullmatch(char)) == bool(original.fullmatch(char)), hex(
            ord(char)
        )


def test_mermaid_unsafe_class_is_the_original_set() -> None:
    original = re.compile(r"[^A-Za-z0-9 .,_\-+!?/@\u00a0-\U0010ffff]")
    for char in _sample():
        assert bool(graph_render._MERMAID_UNSAFE.fullmatch(char)) == bool(
            original.fullmatch(char)
        ), hex(ord(char))


def test_a_group_converts_only_the_subcommand_asked_for() -> None:
    group = cli_app.LazyGroup(name="agentctl").get_command(None, "task")
    assert isinstance(group, cli_app.LazySubGroup)
    show = group.get_command(None, "show")
    assert show is not None and show.name == "show"
    assert list(group.__dict__["commands"]) == ["show"]  # nothing else was converted
    assert group.get_command(None, "show") is show
    assert group.get_command(None, "no-such-command") is None


def test_a_lazy_group_lists_what_typer_builds_in_its_order() -> None:
    eager = typer.main.get_command(task_commands.app)
    lazy = cli_app.LazyGroup(name="agentctl").get_command(None, "task")
    assert lazy.list_commands(None) == eager.list_commands(None)  # type: ignore[attr-defined]
    assert list(lazy.commands) == list(eager.commands)  # type: ignore[attr-defined]
    for name in lazy.list_commands(None):
        ours, theirs = lazy.get_command(None, name), eager.get_command(None, name)  # type: ignore[attr-defined]
        assert ours.get_short_help_str() == theirs.get_short_help_str()
        assert [p.name for p in ours.params] == [p.name for p in theirs.params]
    assert [p.name for p in lazy.params] == [p.name for p in eager.params]
    dep = lazy.get_command(None, "dep")
    assert dep.list_commands(None) == ["add", "rm"]  # a nested group, converted by typer
    assert dep.suggest_commands is False  # click alone suggests ("Did you mean ...?")


def test_the_reader_is_the_facade_cut_down() -> None:
    """Read commands open workspace/reader.Reader: every attribute it has must be the very
    one the facade has (no mixin of the facade overrides it), so a read is the same read."""
    import inspect

    from agentctl.workspace import Workspace
    from agentctl.workspace.reader import Reader

    assert issubclass(Workspace, Reader.__mro__[1])
    assert set(Reader.__mro__[1:]) <= set(Workspace.__mro__)
    differs = [
        name
        for name in dir(Reader)
        if name not in ("__doc__", "__module__", "__dict__", "__weakref__")
        and inspect.getattr_static(Reader, name) is not inspect.getattr_static(Workspace, name)
    ]
    assert differs == []


def test_importing_the_package_leaves_the_facade_to_first_use() -> None:
    import subprocess
    import sys

    code = (
        "import sys, agentctl.workspace.reader; assert 'agentctl.workspace.facade' not in sys.modules;"
        " from agentctl.workspace import Workspace; assert Workspace.__module__ == 'agentctl.workspace.facade'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_printable_head_class_is_the_original_set() -> None:
    from agentctl.store import yaml_subset

    original = re.compile(
        "[\n\x20-\x7e\xa1-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
    )
    for char in [*_sample(), *map(chr, range(0xD7F0, 0x10000))]:
        assert bool(yaml_subset._PRINTABLE_HEAD.fullmatch(char)) == bool(
            original.fullmatch(char)
        ), hex(ord(char))


def test_a_read_of_an_unchanged_small_workspace_writes_nothing(ws_root: Path, cli: Runner) -> None:
    """A small record directory is scanned on every read (an edit in place is seen at once);
    when the scan finds what the index recorded, the index is not written (no transaction)."""
    from agentctl.workspace.reader import Reader

    task_id = add_task(cli, "first")
    first = Reader.open(None, ws_root)
    first.refresh()
    key = "fresh:.agentctl/tasks"
    before = first.index.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    changes = first.index.db.total_changes
    first.refresh(force=True)
    assert first.index.db.total_changes == changes  # nothing written
    first.close()
    second = Reader.open(None, ws_root)
    second.refresh()
    assert second.index.db.total_changes == 0
    assert (
        second.index.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone() == before
    )
    # an edit in place (the directory unchanged) is still seen by the next read
    path = ws_root / ".agentctl" / "tasks" / f"{task_id}.md"
    path.write_text(path.read_text(encoding="utf-8").replace("title: first", "title: edited"))
    second.refresh(force=True)
    assert second.show_task(task_id)["title"] == "edited"
    assert second.list_tasks()[0]["title"] == "edited"
    second.close()


def test_commands_collect_the_youngest_generation_less_often() -> None:
    import gc

    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        cli_app._fewer_young_collections()
        assert gc.get_threshold() == (cli_app.YOUNG_THRESHOLD, 10, 10)
    finally:
        gc.set_threshold(*saved)
