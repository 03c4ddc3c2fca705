"""Benchmark: in-process per-call latency of the MCP server's read tools at 1,000 / 10,000 tasks.

    python bench/bench_mcp.py [--sizes 1000 10000] [--calls 300] [--out bench/results/mcp.md]

A long-running server pays no process start; what each call pays is the freshness check
(cli/mcp_service.py: a cheap signature every call, a re-index when something changed; the
watcher thread's stat scan of every record file runs beside the calls, as in the server) plus the query and
its JSON. Reported per tool: the median and p90 of calls back to back on an unchanged
workspace through the service (what a tool does, JSON included) and through the SDK's
in-process client (adds MCP's dispatch and validation); then the parts: the cheap signature,
the full scan, and the first call after another process changed one task file (a re-index
of that file, and the remembered task lists are recomputed).
Workspaces come from bench_cli.build (files written directly, one reindex, committed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import build  # noqa: E402

from agentctl.cli import mcp_service  # noqa: E402
from agentctl.cli.mcp_service import McpService  # noqa: E402

AS_AGENT = "agent-1"


def _timed(fn: Callable[[], Any], calls: int) -> list[float]:
    fn()  # warm
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median": round(statistics.median(ordered), 2),
        "p90": round(ordered[int(len(ordered) * 0.9) - 1], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


def _tools(service: McpService, show_id: str) -> dict[str, Callable[[], Any]]:
    def dumped(fn: Callable[[], Any]) -> Callable[[], str]:
        return lambda: json.dumps(fn(), separators=(",", ":"), default=str)

    return {
        "show": dumped(lambda: service.show(show_id)),
        "ready": dumped(lambda: service.tasks("ready")),
        "inbox": dumped(lambda: service.inbox()),
        "list --limit 50": dumped(lambda: service.tasks("list", limit=50)),
    }


def _sdk_medians(root: Path, show_id: str, calls: int) -> dict[str, float]:
    """Median ms per tool call through the SDK's in-process client (one worker thread owns the
    workspace, as in the real server)."""
    from mcp import Client

    from agentctl.cli.mcp_tools import Runner, build_server

    runner = Runner(str(root), AS_AGENT, None)
    server = build_server(runner)
    requests = {
        "show": ("show", {"task": show_id}),
        "ready": ("tasks", {"view": "ready"}),
        "inbox": ("inbox", {}),
        "list --limit 50": ("tasks", {"limit": 50}),
    }

    async def main() -> dict[str, float]:
        out = {}
        async with Client(server, cache=None) as client:
            for label, (name, args) in requests.items():
                await client.call_tool(name, args)
                times = []
                for _ in range(calls):
                    start = time.perf_counter()
                    result = await client.call_tool(name, args)
                    times.append((time.perf_counter() - start) * 1000)
                    assert not result.is_error
                out[label] = round(statistics.median(times), 2)
        return out

    try:
        return asyncio.run(main())
    finally:
        runner.close()


def bench_size(n: int, calls: int, base: Path) -> dict[str, Any]:
    root = base / f"ws-{n}"
    task_ids = build(root, n)
    show_id = task_ids[len(task_ids) // 2][:8]
    service = McpService(str(root), AS_AGENT)
    service.start_watching()  # as the server runs it: no call pays for the full scan
    result: dict[str, Any] = {"tasks": n, "tools": {}, "parts": {}}
    try:
        for label, fn in _tools(service, show_id).items():
            result["tools"][label] = _summary(_timed(fn, calls))
        result["parts"]["signature"] = _summary(_timed(service.signature, calls))
        result["parts"]["full scan (refresh)"] = _summary(
            _timed(lambda: service.ws.refresh(force=True), max(5, calls // 10))
        )
        result["parts"]["watcher's stat scan of every record file"] = _summary(
            _timed(service.deep_signature, max(5, calls // 10))
        )
        tools = _tools(service, show_id)
        # Another process rewrites one task file (atomic rename, as agentctl and git do):
        # the next call re-indexes it, and the remembered task lists are dropped.
        path = root / ".agentctl" / "tasks" / f"{task_ids[0]}.md"
        for label in ("show", "ready", "list --limit 50"):
            after_change = []
            for i in range(max(5, calls // 20)):
                text = path.read_text(encoding="utf-8")
                temp = path.with_suffix(f".tmp{i}")
                temp.write_text(text.replace("Description", "Description "), encoding="utf-8")
                os.replace(temp, path)
                start = time.perf_counter()
                tools[label]()
                after_change.append((time.perf_counter() - start) * 1000)
            result["parts"][f"{label}, first call after another process's change"] = _summary(
                after_change
            )
        # Another agentctl process edits a task through the API (as CLI writers and agents
        # do): it indexes its write and records the directory's new signature, so the next
        # call re-reads nothing but what the signature check and the rolling slice cover.
        from agentctl.core.rules import Actor
        from agentctl.workspace import Workspace

        other = Workspace(root)
        try:
            for label in ("show", "ready", "list --limit 50"):
                after_write = []
                for i in range(max(5, calls // 20)):
                    other.edit_task(Actor("bench"), task_ids[1], title=f"Edited {label} {i}")
                    start = time.perf_counter()
                    tools[label]()
                    after_write.append((time.perf_counter() - start) * 1000)
                result["parts"][f"{label}, first call after another agentctl's write"] = _summary(
                    after_write
                )
        finally:
            other.close()
    finally:
        service.close()
    try:
        result["sdk"] = _sdk_medians(root, show_id, max(50, calls // 3))
    except ImportError:
        result["sdk"] = {}
    return result


def render(results: list[dict[str, Any]], calls: int) -> str:
    sizes = [r["tasks"] for r in results]
    head = "| | " + " | ".join(f"{n:,} tasks" for n in sizes) + " |"
    rule = "|---|" + "---:|" * len(sizes)
    lines = [
        f"In-process ms per call, {calls} calls back to back, unchanged workspace "
        "(median / p90 / mean; the watcher thread scans every record file's stat every "
        f"{mcp_service.FULL_SCAN_EVERY:g} s meanwhile):",
        "",
        head,
        rule,
    ]
    for label in results[0]["tools"]:
        cells = ["{median} / {p90} / {mean}".format(**r["tools"][label]) for r in results]
        lines.append(f"| `{label}` (service + JSON) | " + " | ".join(cells) + " |")
    if results[0].get("sdk"):
        for label in results[0]["sdk"]:
            lines.append(
                f"| `{label}` through the SDK client (median) | "
                + " | ".join(str(r["sdk"][label]) for r in results)
                + " |"
            )
    lines += ["", "Parts (median / p90 / mean ms):", "", head, rule]
    for label in results[0]["parts"]:
        cells = ["{median} / {p90} / {mean}".format(**r["parts"][label]) for r in results]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="agentctl-bench-mcp-") as tmp:
        results = [bench_size(n, args.calls, Path(tmp)) for n in args.sizes]
    text = render(results, args.calls)
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
