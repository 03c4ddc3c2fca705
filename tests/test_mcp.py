"""``agentctl mcp`` through the real MCP SDK client: the server is ``python -m agentctl mcp``
spawned over stdio, exactly as a coding agent's client starts it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, make_team, snapshot

pytest.importorskip("mcp")

from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

from agentctl.cli.mcp_service import TOOLS, McpService  # noqa: E402

Session = Callable[[Client], Awaitable[Any]]


def params(root: Path, *args: str, command: str | None = None) -> StdioServerParameters:
    """The server as a client starts it, with this test's environment (PYTHONPATH, HOME, ...)."""
    argv = [command] if command else [sys.executable, "-m", "agentctl"]
    return StdioServerParameters(
        command=argv[0], args=[*argv[1:], *args], env=dict(os.environ), cwd=str(root)
    )


def with_server(server: StdioServerParameters, session: Session) -> Any:
    async def main() -> Any:
        async with Client(server, cache=None, read_timeout_seconds=60) as client:
            return await session(client)

    return asyncio.run(main())


def text(result: Any) -> str:
    return str(result.content[0].text)


def data(result: Any) -> Any:
    assert not result.is_error, text(result)
    return json.loads(text(result))


@pytest.fixture
def team_ws(ws_root: Path, cli: Runner) -> Path:
    make_team(cli, cwd=ws_root)
    return ws_root


def test_lists_its_tools_and_works_a_task_to_review(team_ws: Path, cli: Runner) -> None:
    async def session(client: Client) -> dict[str, Any]:
        listed = await client.list_tools()
        created = data(
            await client.call_tool(
                "add_task",
                {"title": "Write the parser", "priority": 1, "criteria": ["parses"]},
            )
        )["task"]
        ready = data(await client.call_tool("tasks", {"view": "ready"}))["ready"]
        claimed = data(await client.call_tool("claim", {"task": created["id"][:8]}))["task"]
        comment = data(
            await client.call_tool("comment", {"task": created["id"], "text": "parser done"})
        )
        moved = data(
            await client.call_tool(
                "move", {"task": created["id"], "status": "review", "note": "ready for review"}
            )
        )["task"]
        shown = data(await client.call_tool("show", {"task": created["id"]}))["task"]
        return {
            "tools": [t.name for t in listed.tools],
            "created": created,
            "ready": [t["id"] for t in ready],
            "claimed": claimed,
            "comment": comment,
            "moved": moved,
            "shown": shown,
        }

    out = with_server(params(team_ws, "mcp", "--as", "dev-1"), session)
    assert out["tools"] == list(TOOLS)
    task_id = out["created"]["id"]
    assert out["created"]["created_by"] == "dev-1" and out["created"]["priority"] == 1
    assert task_id in out["ready"]
    assert out["claimed"]["status"] == "in_progress" and out["claimed"]["assignees"] == ["dev-1"]
    assert out["comment"]["message"]["author"] == "dev-1"
    assert out["moved"]["status"] == "review"
    assert [m["body"].strip() for m in out["shown"]["thread"]] == ["parser done"]
    # the CLI sees the same records: one mutation path
    shown = cli("task", "show", task_id, "--json", cwd=team_ws).json()["task"]
    assert shown["status"] == "review" and "ready for review" in shown["notes"]


def test_sees_changes_made_by_another_process(team_ws: Path, run_proc: Runner) -> None:
    async def session(client: Client) -> tuple[list[str], list[str], str]:
        before = data(await client.call_tool("tasks", {}))["tasks"]
        made = run_proc("task", "add", "made by the CLI", "-q", cwd=team_ws)
        assert made.code == 0, str(made)
        after = data(await client.call_tool("tasks", {}))["tasks"]
        moved = run_proc("task", "move", made.out.strip(), "blocked", cwd=team_ws)
        assert moved.code == 0, str(moved)
        shown = data(await client.call_tool("show", {"task": made.out.strip()}))["task"]
        return [t["title"] for t in before], [t["title"] for t in after], shown["status"]

    before, after, status = with_server(params(team_ws, "mcp"), session)
    assert "made by the CLI" not in before
    assert "made by the CLI" in after
    assert status == "blocked"


def test_a_refused_action_is_a_tool_error_with_the_cli_message(
    team_ws: Path, cli: Runner, run_proc: Runner
) -> None:
    task_id = add_task(cli, "dev-2's work", "--assign", "dev-2", cwd=team_ws)
    before = snapshot(team_ws)
    expected = run_proc("--as", "dev-1", "task", "claim", task_id, cwd=team_ws)
    assert expected.code == 7, str(expected)
    assert snapshot(team_ws) == before

    async def session(client: Client) -> list[Any]:
        return [
            await client.call_tool("claim", {"task": task_id}),
            await client.call_tool("move", {"task": task_id, "status": "done"}),
            await client.call_tool("show", {"task": "t-zzzzzzzz"}),
        ]

    claim, move, missing = with_server(params(team_ws, "mcp", "--as", "dev-1"), session)
    assert claim.is_error and move.is_error and missing.is_error
    message = expected.err.removeprefix("agentctl: error: ").splitlines()[0]
    assert text(claim).splitlines()[0] == message
    assert text(missing) == "no task matches 't-zzzzzzzz'"
    assert snapshot(team_ws) == before  # nothing half-applied


def test_resources_working_and_task(team_ws: Path, cli: Runner) -> None:
    task_id = add_task(cli, "a resource", cwd=team_ws)

    async def session(client: Client) -> tuple[str, str, list[str], list[str]]:
        working = await client.read_resource("agentctl://working")
        task = await client.read_resource(f"agentctl://task/{task_id[:8]}")
        resources = [str(r.uri) for r in (await client.list_resources()).resources]
        templates = [
            t.uri_template for t in (await client.list_resource_templates()).resource_templates
        ]
        return working.contents[0].text, task.contents[0].text, resources, templates  # type: ignore[union-attr]

    working, task, resources, templates = with_server(params(team_ws, "mcp"), session)
    assert resources == ["agentctl://working"] and templates == ["agentctl://task/{id}"]
    assert working == (team_ws / "WORKING.md").read_text(encoding="utf-8")
    assert "a resource" in working
    assert task == (team_ws / ".agentctl" / "tasks" / f"{task_id}.md").read_text(encoding="utf-8")


def test_tool_list_costs_under_2000_tokens(team_ws: Path) -> None:
    async def session(client: Client) -> str:
        listed = await client.list_tools()
        return json.dumps(listed.model_dump(mode="json", by_alias=True, exclude_none=True))

    serialized = with_server(params(team_ws, "mcp", "--as", "dev-1"), session)
    assert len(serialized) / 4 < 2000, len(serialized)


def test_unknown_identity_or_transport_is_refused_before_serving(
    team_ws: Path, run_proc: Runner
) -> None:
    r = run_proc("mcp", "--as", "nobody", cwd=team_ws, input="")
    assert r.code == 3, str(r)
    assert (
        r.err
        == "agentctl: error: no agent named 'nobody'\nagentctl: hint: see 'agentctl agent list'\n"
    )
    r = run_proc("mcp", "--transport", "pigeon", cwd=team_ws, input="")
    assert r.code == 2 and "--transport must be stdio or http" in r.err, str(r)
    r = run_proc("mcp", "--as", "dev-2", cwd=team_ws, input="", env={"AGENTCTL_AGENT": "dev-1"})
    assert r.code == 7 and "this process acts as dev-1" in r.err, str(r)


def test_service_sees_in_place_edits_after_a_full_scan(
    team_ws: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit that renames nothing (the cheap signature misses it) shows within
    FULL_SCAN_EVERY seconds."""
    from agentctl.cli import mcp_service

    task_id = add_task(cli, "original title", cwd=team_ws)
    service = McpService(str(team_ws))
    try:
        assert service.show(task_id)["task"]["title"] == "original title"
        listed = service.tasks()["tasks"]  # remembered until the index changes
        assert [t["title"] for t in listed if t["id"] == task_id] == ["original title"]
        path = team_ws / ".agentctl" / "tasks" / f"{task_id}.md"
        with path.open("r+", encoding="utf-8") as fh:  # in place: same inode, no rename
            edited = fh.read().replace("title: original title", "title: edited in place")
            fh.seek(0)
            fh.write(edited)
            fh.truncate()
        monkeypatch.setattr(mcp_service, "FULL_SCAN_EVERY", 0.05)
        time.sleep(0.06)
        listed = service.tasks()["tasks"]
        assert [t["title"] for t in listed if t["id"] == task_id] == ["edited in place"]
    finally:
        service.close()


def test_the_watcher_sees_in_place_edits_without_a_call_paying_for_the_scan(
    team_ws: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentctl.cli import mcp_service

    monkeypatch.setattr(mcp_service, "FULL_SCAN_EVERY", 3600.0)  # only the watcher can see it
    task_id = add_task(cli, "watched title", cwd=team_ws)
    service = McpService(str(team_ws))
    try:
        service.start_watching(every=0.05)

        def title() -> list[str]:  # from the index (show reads the file itself)
            return [t["title"] for t in service.tasks()["tasks"] if t["id"] == task_id]

        assert title() == ["watched title"]
        path = team_ws / ".agentctl" / "tasks" / f"{task_id}.md"
        with path.open("r+", encoding="utf-8") as fh:
            edited = fh.read().replace("title: watched title", "title: edited while watched")
            fh.seek(0)
            fh.write(edited)
            fh.truncate()
        deadline = time.monotonic() + 10
        while not service._stale and time.monotonic() < deadline:
            time.sleep(0.02)
        assert title() == ["edited while watched"]
    finally:
        service.close()


def test_inbox_is_a_page_of_the_newest_with_the_unread_count(team_ws: Path, cli: Runner) -> None:
    """An agent far behind gets the newest notifications (limit, default 50), not all of them:
    a reply of 30,000 notifications is more than any model can read."""
    task_id = add_task(cli, "Many mentions", cwd=team_ws)
    for n in range(7):
        assert cli("task", "comment", task_id, f"@dev-1 note {n}", cwd=team_ws).code == 0

    async def session(client: Client) -> list[Any]:
        return [
            data(await client.call_tool("inbox", arguments))["inbox"]
            for arguments in ({"limit": 3}, {}, {"limit": 0})
        ]

    page, whole, one = with_server(params(team_ws, "mcp", "--as", "dev-1"), session)
    assert page["unread"] == whole["unread"] == len(whole["notifications"]) >= 7
    assert page["notifications"] == whole["notifications"][-3:]  # the newest, oldest first
    assert one["notifications"] == whole["notifications"][-1:]  # at least one
    assert "note 6" in page["notifications"][-1]["excerpt"]
