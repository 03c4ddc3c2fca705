"""The MCP server: the SDK's ``MCPServer`` with nine tools and two resources over
:class:`agentctl.cli.mcp_service.McpService`.

Imported only by ``agentctl mcp`` (and tests): it imports the MCP SDK and pydantic.
Every call runs on one worker thread (the workspace's SQLite index belongs to the thread that
opened it); an :class:`AgentctlError` comes back as an MCP tool error whose text is the CLI's
one-line message (and, on a second line, its hint).
"""

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp_types import CallToolResult, TextContent
from pydantic import Field

from agentctl import __version__
from agentctl.cli.mcp_service import DEFAULT_LIMIT, TOOLS, McpService
from agentctl.errors import AgentctlError

INSTRUCTIONS = (
    "agentctl keeps this team's tasks in git. Start with prime; claim a task before working "
    "on it, comment on its thread as you go, and move it to review when done."
)

TaskRef = Annotated[str, Field(description="Task ID or unique prefix")]
Names = list[str] | None


def _error_text(exc: AgentctlError) -> str:
    return exc.message if not exc.hint else f"{exc.message}\nhint: {exc.hint}"


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


class Runner:
    """Runs service calls one at a time on the thread that owns the workspace."""

    def __init__(self, workspace: str | None, as_agent: str | None, start: Path | None) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentctl-mcp")
        self.service: McpService = self.pool.submit(McpService, workspace, as_agent, start).result()
        self.service.start_watching()

    async def tool(self, fn: Callable[..., Any], /, **kwargs: Any) -> CallToolResult:
        """The call's JSON, or a tool error with exactly the CLI's message (a ToolError
        would be prefixed with "Error executing tool NAME: ")."""
        try:
            result = await asyncio.wrap_future(self.pool.submit(fn, **kwargs))
        except AgentctlError as exc:
            return CallToolResult(
                content=[TextContent(type="text", text=_error_text(exc))], is_error=True
            )
        return CallToolResult(content=[TextContent(type="text", text=_json(result))])

    async def resource(self, fn: Callable[..., str], /, *args: Any) -> str:
        try:
            return await asyncio.wrap_future(self.pool.submit(fn, *args))
        except AgentctlError as exc:
            raise ResourceError(_error_text(exc)) from None

    def close(self) -> None:
        self.pool.submit(self.service.close).result()
        self.pool.shutdown()


def _strip_titles(schema: Any) -> Any:
    """pydantic titles every property with its own name: tokens that tell a model nothing."""
    if isinstance(schema, dict):
        return {
            key: _strip_titles(value)
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(schema, list):
        return [_strip_titles(item) for item in schema]
    return schema


def build_server(runner: Runner) -> MCPServer:
    """The server, its tools bound to ``runner``'s service."""
    service = runner.service
    who = service.as_agent or "the human user"
    server: MCPServer = MCPServer(
        "agentctl", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )

    async def tasks(
        view: Literal["list", "ready"] = "list",
        status: Names = None,
        assignee: str | None = None,
        label: str | None = None,
        include_done: bool = False,
        limit: int = DEFAULT_LIMIT,
    ) -> CallToolResult:
        return await runner.tool(
            service.tasks,
            view=view,
            status=status,
            assignee=assignee,
            label=label,
            include_done=include_done,
            limit=max(1, limit),
        )

    async def show(task: TaskRef) -> CallToolResult:
        return await runner.tool(service.show, task=task)

    async def claim(task: str | None = None) -> CallToolResult:
        return await runner.tool(service.claim, task=task)

    async def move(task: TaskRef, status: str, note: str | None = None) -> CallToolResult:
        return await runner.tool(service.move, task=task, status=status, note=note)

    async def comment(task: TaskRef, text: str, reply_to: str | None = None) -> CallToolResult:
        return await runner.tool(service.comment, task=task, text=text, reply_to=reply_to)

    async def inbox(
        read: Names = None,
        read_all: bool = False,
        include_read: bool = False,
        limit: int = DEFAULT_LIMIT,
    ) -> CallToolResult:
        return await runner.tool(
            service.inbox, read=read, read_all=read_all, include_read=include_read, limit=limit
        )

    async def search(query: str, limit: int = 20) -> CallToolResult:
        return await runner.tool(service.search, query=query, limit=limit)

    async def prime() -> CallToolResult:
        return await runner.tool(service.prime)

    async def add_task(
        title: str,
        description: str = "",
        priority: int | None = None,
        assignees: Names = None,
        labels: Names = None,
        depends_on: Names = None,
        parent: str | None = None,
        criteria: Names = None,
    ) -> CallToolResult:
        return await runner.tool(
            service.add_task,
            title=title,
            description=description,
            priority=priority,
            assignees=assignees,
            labels=labels,
            depends_on=depends_on,
            parent=parent,
            criteria=criteria,
        )

    described: list[tuple[Callable[..., Any], str]] = [
        (
            tasks,
            "Tasks as JSON. view=list: open tasks, most urgent first (filter by status, "
            "assignee, label; include_done adds finished ones). view=ready: tasks whose "
            "dependencies are done, in work order"
            + (f" (unassigned or assigned to {who})." if service.as_agent else "."),
        ),
        (show, "One task: fields, description, acceptance criteria, claim, and its thread."),
        (
            claim,
            f"Atomically take a task as {who} (default: the most urgent ready one): assigns "
            "you, moves it in progress, holds a leased claim. Claim before you work on a task.",
        ),
        (
            move,
            "Move a task to another status along the workflow (e.g. review when your work is "
            "done); note is appended to its Notes.",
        ),
        (comment, "Post a message on a task's thread; @name mentions notify agents."),
        (
            inbox,
            f"Unread notifications of {who} (the newest limit; unread counts all); read=[IDs] "
            "or read_all=true marks them read.",
        ),
        (
            search,
            'Full-text search over tasks, messages and documents: words, "a phrase", '
            "prefix*, OR, NOT.",
        ),
        (
            prime,
            f"The context a heartbeat gives {who}: persona, rules, its tasks, inbox and memory.",
        ),
        (
            add_task,
            "Create a task (in inbox, or assigned when assignees are given). priority: 0 (most "
            "urgent) to 3; depends_on: task IDs it waits for; criteria: acceptance criteria.",
        ),
    ]
    assert tuple(fn.__name__ for fn, _ in described) == TOOLS
    for fn, description in described:
        server.add_tool(fn, description=description, structured_output=False)
        tool = server._tool_manager.get_tool(fn.__name__)
        if tool is not None:
            tool.parameters = _strip_titles(tool.parameters)

    @server.resource(
        "agentctl://working",
        name="WORKING.md",
        description="The team's shared state (re-rendered if stale).",
        mime_type="text/markdown",
    )
    async def working() -> str:
        return await runner.resource(service.working)

    @server.resource(
        "agentctl://task/{id}",
        name="task",
        description="A task's markdown file by ID or unique prefix.",
        mime_type="text/markdown",
    )
    async def task_file(id: str) -> str:
        return await runner.resource(service.task_text, id)

    return server


def serve(
    workspace: str | None,
    as_agent: str | None,
    transport: str = "stdio",
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Serve until the client disconnects (stdio) or the process is stopped (http)."""
    runner = Runner(workspace, as_agent, None)
    try:
        server = build_server(runner)
        if transport == "http":
            server.run("streamable-http", host=host, port=port)
        else:
            server.run("stdio")
    finally:
        runner.close()
