"""Import hygiene as a tested contract: the CLI's start-up and read paths never import the heavy
adapters (litellm, textual, GitPython, the MCP SDK; markdownify outside ``fetch``), reads served from the index import neither
pydantic, ruamel.yaml nor filelock, and writes never import pydantic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Runner, add_task, make_team

WATCHED = (
    "litellm",
    "mcp",
    "textual",
    "git",
    "pydantic",
    "ruamel",
    "filelock",
    "rich",
    "agentctl.core.dispatch",
    "agentctl.core.attention",
    "markdownify",
    "bs4",
    "agentctl.web",
    "agentctl.core.graph_render",
    "agentctl.core.gantt",
    "agentctl.core.plan",
    "agentctl.core.spec",
    "agentctl.core.spec_tasks",
    "agentctl.core.reports",
    "agentctl.core.fieldmerge",
    "agentctl.vcs",
    "agentctl.vcs_merge",
    "agentctl.store.journal",
    "hashlib",
    "tempfile",
    "agentctl.errors",
    "agentctl.cli.common",
    "agentctl.workspace",
    "agentctl.workspace.facade",
    "agentctl.workspace.agents",
    "agentctl.workspace.planning",
    "agentctl.workspace.specs",
    "agentctl.workspace.sync",
    "agentctl.workspace.githooks",
    "agentctl.workspace.maintenance",
    "agentctl.workspace.gates",
    "agentctl.workspace.memory",
    "agentctl.workspace.graphs",
    "agentctl.store.working",
    "agentctl.procs",
    "dataclasses",
)
# What the start-up of a read command leaves out (issue 15): the planning, rendering and git
# modules behind other commands are imported by the methods that use them.
NOT_ON_READS = {
    "agentctl.core.graph_render", "agentctl.core.gantt", "agentctl.core.plan", "agentctl.core.spec",
    "agentctl.core.spec_tasks", "agentctl.core.reports", "agentctl.core.fieldmerge", "agentctl.vcs",
    "agentctl.vcs_merge", "agentctl.store.journal", "hashlib", "tempfile",
}  # fmt: skip
# What the read commands that open the workspace's reader (cli/common.open_reader) leave out:
# the facade and the mixins of the operations they never call (workspace/reader.py).
NOT_ON_READER = {
    "agentctl.workspace.facade", "agentctl.workspace.agents", "agentctl.workspace.planning",
    "agentctl.workspace.specs", "agentctl.workspace.sync", "agentctl.workspace.githooks",
    "agentctl.workspace.maintenance", "agentctl.workspace.gates", "agentctl.workspace.memory",
    "agentctl.workspace.graphs",
    # nor what only writes use: WORKING.md's renderer, child processes, and dataclasses (the
    # few classes a read builds are written out: ~0.5 ms each to build)
    "agentctl.store.working", "agentctl.procs", "dataclasses",
}  # fmt: skip
NEVER = {"litellm", "textual", "git", "mcp", "markdownify", "bs4", "agentctl.web"}  # fetch's only
NOT_FROM_INDEX = {"pydantic", "ruamel", "filelock"}

WRAPPER = """
import json, runpy, sys
report, argv = sys.argv[1], sys.argv[2:]
sys.argv = ["agentctl", *argv]
code = 0
try:
    runpy.run_module("agentctl", run_name="__main__")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
with open(report, "w", encoding="utf-8") as fh:
    json.dump({"code": code, "modules": sorted(m for m in WATCHED if m in sys.modules)}, fh)
""".replace("WATCHED", repr(WATCHED))


def imported(cwd: Path, tmp_path: Path, *args: str) -> tuple[int, set[str], str]:
    """Run agentctl ARGS in a fresh interpreter; return (exit code, watched modules, stderr)."""
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER, encoding="utf-8")
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, str(script), str(report), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert report.exists(), f"the wrapper did not finish: {proc.stderr}"
    data = json.loads(report.read_text(encoding="utf-8"))
    return int(data["code"]), set(data["modules"]), proc.stderr


@pytest.fixture
def workspace(ws_root: Path, cli: Runner) -> tuple[Path, str]:
    make_team(cli)
    first = add_task(cli, "first", "--assign", "dev-1", "--ac", "works", "-d", "text")
    add_task(cli, "second", "--depends-on", first)
    return ws_root, first


def test_help_and_version_import_nothing_heavy(tmp_path: Path) -> None:
    for args in (
        ("--help",),
        ("--version",),
        ("task", "--help"),
        ("agent", "--help"),
        ("fetch", "--help"),
        ("mcp", "--help"),
        ("setup", "--help"),
    ):
        code, modules, err = imported(tmp_path, tmp_path, *args)
        assert code == 0, err
        assert not modules & (NEVER | NOT_FROM_INDEX | {"rich"}), f"{args}: {sorted(modules)}"


def test_help_loads_only_the_command_table(tmp_path: Path) -> None:
    """``agentctl --help`` imports agentctl's root modules and nothing else of it: no errors,
    no workspace, no globals (issue 15: ``--help`` within 1.0x of a trivial typer app)."""
    code, modules, err = imported(tmp_path, tmp_path, "--help")
    assert code == 0, err
    assert not modules & {"agentctl.errors", "agentctl.cli.common", "agentctl.workspace"}, modules
    assert not modules & NOT_ON_READS, sorted(modules)


@pytest.mark.parametrize(
    "args",
    [("task", "list"), ("task", "list", "--json"), ("task", "list", "-n", "5"), ("task", "show", "{id}"),
     ("task", "ready"), ("inbox", "--human"), ("--as", "dev-1", "inbox"), ("search", "first"),
     ("agent", "list")],
    ids=lambda a: " ".join(a),
)  # fmt: skip
def test_read_commands_leave_out_planning_rendering_and_git(
    workspace: tuple[Path, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    root, task_id = workspace
    argv = tuple(a.format(id=task_id[:7]) for a in args)
    imported(root, tmp_path, *argv)  # brings the index up to date if needed
    code, modules, err = imported(root, tmp_path, *argv)
    assert code == 0, err
    assert not modules & NOT_ON_READS, f"{argv}: {sorted(modules & NOT_ON_READS)}"


@pytest.mark.parametrize(
    "args",
    [("task", "list"), ("task", "list", "--json"), ("task", "show", "{id}"), ("task", "show", "{id}", "--json"),
     ("task", "ready"), ("task", "ready", "--explain"), ("--as", "dev-1", "inbox"), ("search", "first"),
     ("thread", "{id}")],
    ids=lambda a: " ".join(a),
)  # fmt: skip
def test_reader_commands_leave_out_the_facade(
    workspace: tuple[Path, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    """Issue 15: read commands open the workspace's reader (base, tasks, collab), not the
    facade's ~30 modules; ``task show`` reads the task file without ruamel (plain_yaml.py)."""
    root, task_id = workspace
    argv = tuple(a.format(id=task_id[:7]) for a in args)
    imported(root, tmp_path, *argv)  # brings the index up to date if needed
    code, modules, err = imported(root, tmp_path, *argv)
    assert code == 0, err
    assert not modules & NOT_ON_READER, f"{argv}: {sorted(modules & NOT_ON_READER)}"
    assert not modules & (NEVER | NOT_FROM_INDEX), f"{argv}: {sorted(modules)}"


@pytest.mark.parametrize(
    "args",
    [("task", "list"), ("task", "show", "{id}"), ("task", "ready"), ("task", "ready", "--explain"), ("agent", "list"),
     ("agent", "show", "dev-1"), ("board", "--plain"), ("working",), ("task", "list", "--json"), ("graph",),
     ("graph", "-f", "mermaid"), ("graph", "-f", "dot"), ("graph", "--json"), ("graph", "critical-path"),
     ("graph", "gantt"), ("graph", "gantt", "-f", "mermaid"), ("graph", "cycles"), ("task", "blocked", "--explain"),
     ("dispatch", "--dry-run"), ("attention",), ("attention", "--json"), ("inbox", "--human"),
     ("config", "get", "heartbeat.sync"), ("config", "list", "--json")],
    ids=lambda a: " ".join(a),
)  # fmt: skip
def test_read_commands_never_import_adapters(
    workspace: tuple[Path, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    root, task_id = workspace
    argv = tuple(a.format(id=task_id[:7]) for a in args)
    for _ in range(2):
        code, modules, err = imported(root, tmp_path, *argv)
        assert code == 0, err
        assert not modules & NEVER, f"{argv}: {sorted(modules)}"


@pytest.mark.parametrize(
    "args",
    [
        ("task", "list"),
        ("task", "ready"),
        ("agent", "list"),
        ("task", "list", "--all", "--json"),
        ("memory", "show", "dev-1"),
        ("memory", "search", "dev-1", "x"),
        ("standup",),
        ("standup", "--format", "json"),
        ("stats",),
        ("stats", "--json"),
        ("graph",),
        ("graph", "critical-path"),
        ("graph", "critical-path", "--json"),
        ("graph", "gantt"),
        ("graph", "gantt", "--json"),
        ("graph", "cycles"),
        ("task", "blocked"),
        ("task", "blocked", "--explain"),
        ("dispatch", "--dry-run"),
        ("attention", "--json"),
        ("config", "get", "heartbeat.sync"),
        ("config", "list"),
    ],
    ids=lambda a: " ".join(a),
)
def test_reads_served_from_the_index_stay_light(
    workspace: tuple[Path, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    root, _ = workspace
    imported(root, tmp_path, *args)  # brings the index up to date if needed
    code, modules, err = imported(root, tmp_path, *args)
    assert code == 0, err
    assert not modules & (NEVER | NOT_FROM_INDEX), f"{args}: {sorted(modules)}"


def test_reads_after_a_hand_edit_still_avoid_adapters(
    workspace: tuple[Path, str], tmp_path: Path
) -> None:
    root, task_id = workspace
    path = root / ".agentctl" / "tasks" / f"{task_id}.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("title: first", "title: first (edited)"),
        encoding="utf-8",
    )
    code, modules, err = imported(root, tmp_path, "task", "list")
    assert code == 0, err
    assert not modules & NEVER
    # once re-indexed, the next read is light again
    code, modules, err = imported(root, tmp_path, "task", "list")
    assert code == 0, err
    assert not modules & (NEVER | NOT_FROM_INDEX), sorted(modules)


def test_mutations_never_import_adapters(workspace: tuple[Path, str], tmp_path: Path) -> None:
    root, task_id = workspace
    for args in (("task", "add", "from a subprocess"), ("task", "move", task_id, "in_progress"), ("note", "hello"),
                 ("agent", "status", "dev-2", "active"), ("config", "set", "heartbeat.sync", "true"),
                 ("setup", "claude", "--mcp")):  # fmt: skip
        code, modules, err = imported(root, tmp_path, *args)
        assert code == 0, err
        assert not modules & NEVER, f"{args}: {sorted(modules)}"
        if args[:2] == ("task", "add"):
            assert "ruamel" in modules  # writing YAML does import it: the probe sees imports


def test_real_process_exit_codes(workspace: tuple[Path, str], run_proc: Runner) -> None:
    root, task_id = workspace
    r = run_proc("task", "list", cwd=root)
    assert r.code == 0, str(r)
    assert "first" in r.out
    r = run_proc("task", "show", "t-zzzzzzzzzzzz", cwd=root)
    assert r.code == 3, str(r)
    assert r.err == "agentctl: error: no task matches 't-zzzzzzzzzzzz'\n"
    r = run_proc("task", "move", task_id, "done", cwd=root)
    assert r.code == 5, str(r)
    r = run_proc("--as", "intern-1", "task", "rm", task_id, cwd=root)
    assert r.code == 7, str(r)
    r = run_proc("task", "frob", cwd=root)
    assert r.code == 2, str(r)
    assert "Traceback" not in r.err
    r = run_proc("task", "list", "--json", cwd=root)
    assert r.code == 0 and json.loads(r.out)["schema_version"] == 1


def test_planning_rules_load_only_where_used(workspace: tuple[Path, str], tmp_path: Path) -> None:
    """Every command imports the Workspace class; dispatch and escalation rules (and their
    dataclasses) are imported only by the commands that use them."""
    root, _ = workspace
    for args in (("task", "list"), ("task", "add", "one more"), ("working",)):
        code, modules, err = imported(root, tmp_path, *args)
        assert code == 0, err
        assert not modules & {"agentctl.core.dispatch", "agentctl.core.attention"}, (
            f"{args}: {sorted(modules)}"
        )
    code, modules, err = imported(root, tmp_path, "dispatch", "--dry-run")
    assert code == 0 and "agentctl.core.dispatch" in modules, err


@pytest.mark.parametrize(
    "args",
    [("task", "add", "written without pydantic"), ("task", "edit", "{id}", "--title", "renamed"),
     ("task", "assign", "{id}", "dev-2"), ("task", "move", "{id}", "in_progress"),
     ("task", "comment", "{id}", "a comment"), ("--as", "dev-1", "task", "claim", "{id}"),
     ("task", "dep", "add", "{id}", "{other}"), ("note", "a note"), ("agent", "status", "dev-2", "active"),
     ("agent", "edit", "dev-2", "--role", "tester")],
    ids=lambda a: " ".join(a),
)  # fmt: skip
def test_write_commands_never_import_pydantic(
    workspace: tuple[Path, str], tmp_path: Path, cli: Runner, args: tuple[str, ...]
) -> None:
    """Writes validate records with the checks generated from the models (core/checks.py):
    importing pydantic would cost more than the whole write may take."""
    root, first = workspace
    other = add_task(cli, "third", cwd=root)
    argv = tuple(a.format(id=first, other=other) for a in args)
    code, modules, err = imported(root, tmp_path, *argv)
    assert code == 0, err
    assert "pydantic" not in modules, f"{argv}: {sorted(modules)}"
    assert not modules & NEVER, f"{argv}: {sorted(modules)}"
