"""``agentctl setup TOOL [--mcp] [--remove]``: the marked instruction block and MCP configs."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, make_team

from agentctl.cli.agent_setup import TARGETS, WORKFLOW, command_list, instructions_text
from agentctl.cli.app import COMMANDS
from agentctl.core.instructions import BEGIN, END

FILES = {
    "claude": "CLAUDE.md",
    "codex": "AGENTS.md",
    "gemini": "GEMINI.md",
    "cursor": ".cursor/rules/agentctl.mdc",
    "aider": "CONVENTIONS.md",
    "agents-md": "AGENTS.md",
}


def block_of(text: str) -> str:
    return text[text.index(BEGIN) : text.index(END) + len(END)]


@pytest.mark.parametrize("tool", list(FILES))
def test_each_tool_gets_its_file_and_remove_deletes_a_file_it_created(
    ws_root: Path, cli: Runner, tool: str
) -> None:
    path = ws_root / FILES[tool]
    r = cli("setup", tool, cwd=ws_root)
    assert r.code == 0, str(r)
    assert r.out.startswith(f"created {FILES[tool]}\n")
    text = path.read_text(encoding="utf-8")
    assert "agentctl --as NAME task claim ID" in block_of(text)
    if tool == "cursor":
        assert text.startswith("---\ndescription:") and "alwaysApply: true" in text
    first = path.read_bytes()
    r = cli("setup", tool, cwd=ws_root)
    assert r.code == 0 and r.out.startswith(f"unchanged {FILES[tool]}"), str(r)
    assert path.read_bytes() == first  # idempotent
    r = cli("setup", tool, "--remove", cwd=ws_root)
    assert r.code == 0 and r.out == f"deleted {FILES[tool]}\n", str(r)
    assert not path.exists()
    r = cli("setup", tool, "--remove", cwd=ws_root)
    assert r.code == 0 and r.out == f"absent {FILES[tool]}\n", str(r)


def test_text_outside_the_block_is_never_touched(ws_root: Path, cli: Runner) -> None:
    path = ws_root / "CLAUDE.md"
    original = "# Our project\n\nUse tabs.\n"
    path.write_text(original, encoding="utf-8")
    assert cli("setup", "claude", cwd=ws_root).code == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith(original) and text.endswith(END + "\n")
    # the user edits around the block; setup with other options rewrites only the block
    edited = "# Our project (edited)\n\n" + text.split("\n\n", 1)[1] + "\nMore notes.\n"
    path.write_text(edited, encoding="utf-8")
    assert cli("setup", "claude", "--mcp", cwd=ws_root).code == 0
    updated = path.read_text(encoding="utf-8")
    assert updated.startswith("# Our project (edited)\n\nUse tabs.\n\n" + BEGIN)
    assert updated.endswith(END + "\n\nMore notes.\n")
    assert "MCP server" in block_of(updated) and "MCP server" not in block_of(text)
    r = cli("setup", "claude", "--remove", cwd=ws_root)
    assert r.code == 0 and r.out == "removed CLAUDE.md\n", str(r)
    assert (
        path.read_text(encoding="utf-8") == "# Our project (edited)\n\nUse tabs.\n\nMore notes.\n"
    )


def test_remove_restores_the_file_byte_for_byte(ws_root: Path, cli: Runner) -> None:
    path = ws_root / "AGENTS.md"
    for original in ("one line\n", "two\n\n", "a\n\n\nb\n", "no newline at the end"):
        path.write_text(original, encoding="utf-8")
        assert cli("setup", "codex", cwd=ws_root).code == 0
        assert cli("setup", "codex", "--remove", cwd=ws_root).code == 0
        restored = path.read_text(encoding="utf-8")
        # a last line without a newline is the one thing that changes: it gets one
        assert restored == original.removesuffix("\n") + "\n", repr(original)


def test_broken_markers_are_refused_and_the_file_is_kept(ws_root: Path, cli: Runner) -> None:
    path = ws_root / "GEMINI.md"
    broken = f"intro\n{BEGIN}\nhalf a block\n"
    path.write_text(broken, encoding="utf-8")
    r = cli("setup", "gemini", cwd=ws_root)
    assert r.code == 6, str(r)
    assert r.err.startswith("agentctl: error: GEMINI.md:2: agentctl's block markers are unbalanced")
    assert path.read_text(encoding="utf-8") == broken


def test_mcp_json_is_merged_without_losing_other_servers(ws_root: Path, cli: Runner) -> None:
    path = ws_root / ".mcp.json"
    others = {"mcpServers": {"db": {"command": "db-mcp", "args": ["--ro"]}}, "other": 1}
    path.write_text(json.dumps(others), encoding="utf-8")
    r = cli("setup", "claude", "--mcp", cwd=ws_root)
    assert r.code == 0 and "updated .mcp.json" in r.out, str(r)
    merged = json.loads(path.read_text(encoding="utf-8"))
    assert merged == {
        "mcpServers": {
            "db": {"command": "db-mcp", "args": ["--ro"]},
            "agentctl": {"command": "agentctl", "args": ["mcp"]},
        },
        "other": 1,
    }
    before = path.read_bytes()
    assert "unchanged .mcp.json" in cli("setup", "claude", "--mcp", cwd=ws_root).out
    assert path.read_bytes() == before
    assert cli("setup", "claude", "--mcp", "--remove", cwd=ws_root).code == 0
    assert json.loads(path.read_text(encoding="utf-8")) == others


def test_an_mcp_config_it_created_is_deleted_on_remove(ws_root: Path, cli: Runner) -> None:
    for tool, rel in (("claude", ".mcp.json"), ("gemini", ".gemini/settings.json"),
                      ("cursor", ".cursor/mcp.json")):  # fmt: skip
        r = cli("setup", tool, "--mcp", "--json", cwd=ws_root)
        assert r.code == 0, str(r)
        assert r.json()["mcp"] == {"path": rel, "action": "created"}
        assert json.loads((ws_root / rel).read_text(encoding="utf-8")) == {
            "mcpServers": {"agentctl": {"command": "agentctl", "args": ["mcp"]}}
        }
        r = cli("setup", tool, "--mcp", "--remove", "--json", cwd=ws_root)
        assert r.json()["mcp"] == {"path": rel, "action": "deleted"}, str(r)
        assert not (ws_root / rel).exists()


def test_invalid_mcp_json_is_refused_untouched(ws_root: Path, cli: Runner) -> None:
    path = ws_root / ".mcp.json"
    path.write_text('{"mcpServers": {,}}\n', encoding="utf-8")
    r = cli("setup", "claude", "--mcp", cwd=ws_root)
    assert r.code == 6, str(r)
    assert r.err.startswith("agentctl: error: .mcp.json:1: not valid JSON")
    assert path.read_text(encoding="utf-8") == '{"mcpServers": {,}}\n'


def test_tools_without_a_project_mcp_file_get_a_snippet(ws_root: Path, cli: Runner) -> None:
    r = cli("setup", "codex", "--mcp", cwd=ws_root)
    assert r.code == 0, str(r)
    assert '[mcp_servers.agentctl]\ncommand = "agentctl"\nargs = ["mcp"]' in r.out
    assert not (ws_root / ".codex").exists()
    r = cli("setup", "aider", "--mcp", cwd=ws_root)
    assert "aider has no MCP client" in r.out
    assert "read: CONVENTIONS.md" in r.err
    r = cli("setup", "agents-md", "--mcp", cwd=ws_root)
    assert '"agentctl": {' in r.out


def test_unknown_tool_is_a_usage_error(ws_root: Path, cli: Runner) -> None:
    r = cli("setup", "vim", cwd=ws_root)
    assert r.code == 2
    assert r.err == (
        "agentctl: error: unknown tool 'vim'; choose one of: "
        "claude, codex, gemini, cursor, aider, agents-md\n"
    )
    assert set(TARGETS) == set(FILES)


def test_the_command_list_comes_from_the_live_tree() -> None:
    lines = command_list()
    assert [line.split("`")[1] for line in lines] == list(COMMANDS)
    task_line = next(line for line in lines if line.startswith("- `task`"))
    assert "claim" in task_line and "comment" in task_line and "ready" in task_line
    text = instructions_text(mcp=False)
    for path, options in WORKFLOW:
        assert (
            f"agentctl {' '.join(path)}" in text or f"agentctl --as NAME {' '.join(path)}" in text
        )
        for option in options:
            assert option in text


def test_a_workflow_step_that_no_longer_exists_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentctl.cli import agent_setup

    monkeypatch.setattr(agent_setup, "WORKFLOW", ((("task", "claim"), ("--frobnicate",)),))
    with pytest.raises(RuntimeError, match="has no option --frobnicate"):
        agent_setup.command_list()


def test_acceptance_setup_claude_mcp_then_work_a_task_through_the_configured_server(
    git_ws_root: Path, cli: Runner, run_proc: Runner
) -> None:
    """`agentctl setup claude --mcp`, then start the server exactly as .mcp.json says (this
    test's interpreter stands in for `agentctl` when that is not on PATH) and work one task
    to review through the SDK client."""
    pytest.importorskip("mcp")
    import asyncio

    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    root = git_ws_root
    make_team(cli, cwd=root)
    r = run_proc("setup", "claude", "--mcp", cwd=root)
    assert r.code == 0, str(r)
    config = json.loads((root / ".mcp.json").read_text(encoding="utf-8"))
    server = config["mcpServers"]["agentctl"]
    command: list[str] = [server["command"]]
    if shutil.which(command[0]) is None:
        command = [sys.executable, "-m", "agentctl"]
    env = dict(os.environ, AGENTCTL_AGENT="dev-1")
    params = StdioServerParameters(
        command=command[0], args=[*command[1:], *server["args"]], env=env, cwd=str(root)
    )

    async def session() -> dict[str, Any]:
        async with Client(params, cache=None, read_timeout_seconds=60) as client:
            tools = [t.name for t in (await client.list_tools()).tools]

            async def call(name: str, args: dict[str, Any]) -> Any:
                result = await client.call_tool(name, args)
                assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
                return json.loads(result.content[0].text)  # type: ignore[union-attr]

            prime = await call("prime", {})
            task = (await call("add_task", {"title": "Acceptance task"}))["task"]
            await call("claim", {"task": task["id"]})
            await call("comment", {"task": task["id"], "text": "done through MCP"})
            moved = (await call("move", {"task": task["id"], "status": "review"}))["task"]
            return {"tools": tools, "prime": prime, "moved": moved}

    out = asyncio.run(session())
    assert {"tasks", "claim", "move", "comment", "prime", "add_task"} <= set(out["tools"])
    assert out["prime"]["agent"] == "dev-1"
    assert out["moved"]["status"] == "review" and out["moved"]["assignees"] == ["dev-1"]
    shown = cli("task", "show", out["moved"]["id"], "--json", cwd=root).json()["task"]
    assert shown["status"] == "review"
    assert [m["body"].strip() for m in shown["thread"]] == ["done through MCP"]
