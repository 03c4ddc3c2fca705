"""``agentctl sync``: share the workspace through its git remote."""

from __future__ import annotations

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, open_workspace, want_json

sync_app = typer.Typer(rich_markup_mode=None)


@sync_app.command()
def sync(
    ctx: typer.Context,
    remote: str = typer.Option(
        None, "--remote", "-r", help="The git remote (default: sync.remote, origin)."
    ),
    branch: str = typer.Option(
        None,
        "--branch",
        "-b",
        help="The remote branch (default: sync.branch, else the checked-out branch's name).",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Commit agentctl's pending files, fetch, integrate, re-index, re-render WORKING.md, push.

    Integrating rebases local commits onto the fetched ones (sync.mode: merge merges
    instead); a push the remote rejects because it moved is retried after a fresh fetch,
    sync.retries times. Exit 0 when in step with the remote; 5 when integrating stopped
    on a conflict (the rebase or merge is left for you: resolve the files, `git add` them,
    `git rebase --continue` or `git commit`, then sync again); 9 when git or the remote
    failed (unreachable, the push refused, or still rejected after the retries); 3 for an
    unknown remote.
    """
    ws = open_workspace(ctx, warn=False)
    report = ws.sync(remote, branch, progress=output.git_progress(want_json(ctx, json_)))
    if want_json(ctx, json_):
        output.emit_json({"sync": report.as_dict()})
        return
    parts = [f"{report.remote}/{report.branch}:"]
    if report.drivers:
        parts.append("configured the merge drivers in this clone;")
    if report.committed:
        parts.append(f"committed {len(report.committed)} pending file(s);")
    parts.append(f"{report.incoming} commit(s) in ({report.integration}),")
    parts.append(f"{report.outgoing} out")
    if report.attempts > 1:
        parts.append(f"after {report.attempts} push attempts")
    if report.rerendered:
        parts.append("· WORKING.md re-rendered")
    output.say(" ".join(parts))
