"""One heartbeat tick of one agent: the decisions, not the schedule.

lock (non-blocking; a running tick means "skipped") → collect work → no work: record an
idle beat and stop, with no model call → build the bounded prompt → call the runtime →
parse and validate the answer → apply each valid action through the workspace API as the
agent (permission-checked like any CLI call) → report rejected ones on their task → mark the
notifications delivered → note the tick in memory and in the agent's state → one commit.
Every tick, whatever its outcome, is appended to the local run log.

Two runtimes never change records: ``manual`` agents (the default of ``agent add``) get a
"waiting" record naming their work and the prompt they would be sent; ``simulated`` agents
are refused unless the config says ``allow_simulated: true`` (the demo's workspace does), so
a stand-in never "does" real tasks. The run record is masked (core/secrets.py) before it is
logged or returned, and so is a runtime's answer before it is parsed.
"""

from __future__ import annotations

import re
import time
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.core.clock import now_seconds, stamp
from agentctl.core.clock import parse as parse_ts
from agentctl.core.duration import parse_duration
from agentctl.core.rules import Actor, is_pending, pending_reason
from agentctl.errors import AgentctlError, BudgetError, GitError, LockTimeoutError, NotFoundError
from agentctl.heartbeat.context import Work, build_prompt, collect
from agentctl.paths import validate_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    from agentctl.core import events as ev
    from agentctl.core.records import AgentRecord, AgentStateRecord
    from agentctl.heartbeat.answering import Parsed
    from agentctl.heartbeat.contain import Guard
    from agentctl.runtime.base import Answer
    from agentctl.runtime.structured import Structured
    from agentctl.workspace import Workspace

SYSTEM_ACTOR = Actor("agentctl")
OUTCOMES = ("idle", "worked", "waiting", "failed", "skipped", "refused", "budget")
LOGGED_REJECTIONS = 50  # rejected actions listed in a run record (all are counted)
MANUAL_PROMPT_CHARS = 4000  # of the prompt a manual agent would be sent, kept in its run record


def tick(
    ws: Workspace,
    name: str,
    dry_run: bool = False,
    now: datetime | None = None,
    escalate: bool = True,
) -> dict[str, Any]:
    """Run one tick of agent ``name``; returns the run record. ``escalate``: a lead's tick (any
    tick when there is no lead) first raises new conditions that need attention; ``tick_all``
    raises them once per round instead."""

    validate_name(name, "agent name")
    started = now or now_seconds()
    clock = time.monotonic()
    from agentctl.core.ids import new_id

    record: dict[str, Any] = {
        "id": new_id("r"),  # 'agentctl runs --show ID' prints the run with its raw answers
        "agent": name,
        "started": stamp(started),
        "outcome": "skipped",
    }
    # Not locks.try_hold: a LockTimeoutError raised inside its block (the workspace lock,
    # mid-tick) makes that generator fail with "generator didn't stop after throw()".
    with ExitStack() as held:
        try:
            held.enter_context(ws.run_lock(name))
        except LockTimeoutError:
            record["reason"] = "a previous tick of this agent is still running"
            return _finish(ws, record, clock, dry_run)
        try:
            _tick(ws, name, record, started, dry_run, escalate)
        except BudgetError as exc:
            record.update(outcome="budget", error=exc.message)
            if not dry_run:
                _record_budget(ws, name, started, exc)
            _finish(ws, record, clock, dry_run)
            raise
        return _finish(ws, record, clock, dry_run)


def _finish(ws: Workspace, record: dict[str, Any], clock: float, dry_run: bool) -> dict[str, Any]:
    from agentctl.core import secrets

    record.update(secrets.mask_data(record))  # printed by the CLI as well as logged
    record["duration_ms"] = int((time.monotonic() - clock) * 1000)
    if not dry_run:
        ws.record_run(record)
    return record


def _tick(
    ws: Workspace,
    name: str,
    record: dict[str, Any],
    started: datetime,
    dry_run: bool,
    escalate: bool,
) -> None:
    ws.refresh()
    agent = ws.index.agent(name)
    if agent is None:
        raise NotFoundError(f"no agent named {name!r}", hint="see 'agentctl agent list'")
    if not dry_run:
        try:
            ws.check_git_preconditions()  # a tick that could not commit would change nothing
        except GitError as exc:
            record["reason"] = exc.message
            return
    if is_pending(agent):
        record.update(
            outcome="refused", reason=pending_reason(name) + ": until then it never ticks"
        )
        return
    kind = str(agent.get("runtime") or "manual")
    if kind == "simulated" and not ws.config.get("allow_simulated", False):
        record.update(outcome="refused", reason=(
            f"agent {name}: the simulated runtime is a stand-in for demos and tests; it ticks only where "
            f".agentctl/config.yaml says allow_simulated: true (give {name} a real runtime: "
            f"'agentctl agent edit {name} --runtime command --command ...', or llm, or manual)"))  # fmt: skip
        return
    state = ws.index.states().get(name, {})
    if state.get("status") == "blocked":
        record["reason"] = (
            f"{name} is blocked (after {state.get('failures', 0)} failed ticks); 'agentctl agent reset {name}' resumes it"
        )
        return
    retry_after = parse_ts(state.get("retry_after"))
    if retry_after is not None and retry_after > started:
        record["reason"] = (
            f"backing off after a failure until {stamp(retry_after)}; 'agentctl agent reset {name}' ends it"
        )
        return
    if escalate and not dry_run:
        leads = _leads(ws, "")
        if not leads or name in leads:
            _escalate(ws, record, started)
    work = collect(ws, name, started)
    record["work"] = work.summary()
    if not work.has_work:
        record["outcome"] = "idle"
        if not dry_run:
            _record_idle(ws, name, state, started)
        return
    prompt = build_prompt(ws, work, started)
    record["prompt_tokens"] = prompt.tokens
    if dry_run:
        record["outcome"] = "would_work"
        return
    from agentctl import runtime
    from agentctl.heartbeat.answering import ask_for_actions, log_answers
    from agentctl.runtime.base import Request

    request = Request(
        agent={**agent, "persona": None},
        system=prompt.system,
        prompt=prompt.prompt,
        workspace_root=ws.root,
        local_dir=Path(ws.layout.local),
        config=ws.config,
        task_id=prompt.task_id,
        context=prompt.context,
    )
    failure: AgentctlError | None = None
    answer: Answer | None = None
    result: Structured[Parsed] | None = None
    try:
        guard = _guard(ws, name, agent) if kind == "command" else None
    except AgentctlError as exc:  # e.g. sandbox: bwrap where bubblewrap cannot run
        _record_failure(ws, name, state, started, record, exc.message)
        return
    try:
        if kind == "manual":
            answer = runtime.load(kind).run(replace(request, confine=guard))
        else:
            result = ask_for_actions(ws, kind, replace(request, confine=guard), prompt.tasks)
    except BudgetError:
        raise
    except AgentctlError as exc:
        failure = exc
    finally:
        findings = guard.close() if guard is not None else None
    if guard is not None and guard.new_root_files:
        # Not reverted (a coding agent creates files), but named: tool droppings such as chat
        # histories show up here before they end up in a commit.
        record["new_root_files"] = guard.new_root_files[:50]
    if findings is not None:
        shown = ", ".join(findings.reverted[:5]) + (" …" if len(findings.reverted) > 5 else "")
        record.update(outcome="failed", blocked=True, contained=findings.reverted[:50],
                      error=f"{name}'s command changed protected files directly (reverted: {shown}); {name} is blocked")  # fmt: skip
        return
    if result is not None:
        log_answers(record, result)
        _apply_answer(ws, name, kind, work, prompt.task_id, result, record, started)
        return
    if failure is not None or answer is None:
        if failure is not None and failure.hint:
            record["hint"] = failure.hint
        message = failure.message if failure is not None else "the runtime gave no answer"
        _record_failure(ws, name, state, started, record, message)
        return
    record.update(tokens_in=answer.tokens_in, tokens_out=answer.tokens_out, cost_usd=round(answer.cost_usd, 6),
                  model=answer.model, cached=answer.cached)  # fmt: skip
    if kind == "manual":
        # Nothing is applied and no state changes: a person (or a later runtime) does the work.
        record.update(
            outcome="waiting", task=prompt.task_id, prompt=answer.text[:MANUAL_PROMPT_CHARS]
        )
        if len(answer.text) > MANUAL_PROMPT_CHARS:
            record["prompt_omitted_chars"] = len(answer.text) - MANUAL_PROMPT_CHARS
        return


def _escalate(ws: Workspace, record: dict[str, Any], started: datetime) -> None:
    """Raise new conditions that need attention (before the work is collected, so a lead
    sees them in this tick); a failure to record them never fails the tick."""
    try:
        raised = ws.raise_attention(started)
    except AgentctlError as exc:
        record["attention_error"] = exc.message
        return
    if raised:
        record["attention_raised"] = len(raised)


def _guard(ws: Workspace, name: str, agent: AgentRecord) -> Guard:
    """Open the containment window around a command agent's run (heartbeat/contain.py), in
    the sandbox when there is one (heartbeat/sandbox.py)."""
    from agentctl.heartbeat.sandbox import make_guard

    guard = make_guard(ws, name, agent)
    guard.open()
    return guard


def _apply_answer(
    ws: Workspace,
    name: str,
    kind: str,
    work: Work,
    task_id: str | None,
    result: Structured[Parsed],
    record: dict[str, Any],
    started: datetime,
) -> None:
    """Apply the valid actions. A tick whose answer was unusable or held no valid action (only
    invalid ones, or invalid ones and noops) failed: backoff, failure count, notifications left
    undelivered, leads told after max_failures."""
    from agentctl.heartbeat.answering import json_attempt

    actor = ws.actor(name)
    text = result.attempts[result.best].text
    if result.value is None:
        report = _plain_text(text)[:4000].strip()
        if kind == "command" and report and task_id and not json_attempt(report):
            # A coding agent that just talks: its output is the progress report.
            with ws.batched(actor, f"heartbeat of {name}: output posted on {task_id}"):
                ws.comment(actor, task_id, report, kind="status_update")
                _close_tick(
                    ws, name, work, started, record, applied=[], rejected=[], current=task_id
                )
            return
        state = ws.index.states().get(name, {})
        problem = result.problems[0] if result.problems else "the runtime gave no answer"
        _record_failure(ws, name, state, started, record, f"unusable answer: {problem}")
        return
    actions, rejected = result.value
    rejected = list(rejected)
    # The model produced no valid action (a clean noop is one): the tick fails. Valid actions
    # that the workspace refuses (permissions, workflow) are the agent's decisions: it worked.
    produced_nothing = bool(rejected) and not any(a.type != "noop" for a in actions)
    applied: list[dict[str, Any]] = []
    to_apply, lost = _claims_won_by_push(ws, actor, actions, applied, rejected)
    with ws.batched(actor, f"heartbeat of {name}"):
        for action in to_apply:
            if action.type == "noop":
                applied.append({"action": "noop", "reason": action.reason})
                continue
            on_task = getattr(action, "task", None)
            if on_task is not None and on_task in lost:
                rejected.append({"action": f"{action.type}({on_task})", "task": on_task,
                                 "reason": f"not applied: the claim of {on_task} was not won ({lost[on_task]})"})  # fmt: skip
                continue
            try:
                applied.append(_apply(ws, actor, action, started))
            except AgentctlError as exc:
                on = getattr(action, "task", None) or getattr(
                    action, "parent", None
                )  # plan: its parent
                rejected.append({"action": f"{action.type}({on or ''})", "reason": exc.message, "task": on})  # fmt: skip
        for item in rejected:
            task = item.get("task")
            if task:
                try:
                    ws.comment(
                        SYSTEM_ACTOR,
                        task,
                        f"Rejected {name}'s action {item['action']}: {item['reason']}",
                        kind="status_update",
                    )
                except AgentctlError:
                    pass  # the task itself may be unknown: the run log keeps the reason
        if produced_nothing:
            record.update(applied=0, rejected=len(rejected), actions=applied,
                          rejections=rejected[:LOGGED_REJECTIONS])  # fmt: skip
            first = " ".join(str(rejected[0]["reason"]).split())
            state = ws.index.states().get(name, {})
            _record_failure(ws, name, state, started, record,
                            f"no valid action ({len(rejected)} invalid; first: {first[:200]})")  # fmt: skip
            return
        current = next((a.get("task") for a in applied if a.get("task")), task_id)
        _close_tick(ws, name, work, started, record, applied, rejected, current)


def _claims_won_by_push(
    ws: Workspace,
    actor: Actor,
    actions: Sequence[Any],
    applied: list[dict[str, Any]],
    rejected: list[dict[str, Any]],
) -> tuple[list[Any], dict[str, str]]:
    """With ``heartbeat.sync: true`` a claim in a tick is won the way ``task claim --sync``
    wins one: made and pushed before the rest of the answer is applied, and withdrawn when
    another machine's claim landed first. Returns the other actions, and the tasks whose
    claim was not won (with why): the answer's other actions on those tasks are not applied,
    so a losing agent never works a task someone else holds."""
    if not any(a.type == "claim" for a in actions):
        return list(actions), {}
    if not ws.config["heartbeat"]["sync"] or ws.repo is None:
        return list(actions), {}
    rest: list[Any] = []
    lost: dict[str, str] = {}
    for action in actions:
        if action.type != "claim":
            rest.append(action)
            continue
        try:
            task = ws.claim_synced(actor, action.task)
        except AgentctlError as exc:
            lost[action.task] = exc.message
            rejected.append({"action": f"claim({action.task})", "reason": exc.message, "task": action.task})  # fmt: skip
            continue
        applied.append({"action": "claim", "task": task["id"], "pushed": True})
    return rest, lost


_ANSI_ESCAPE = r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])"


def _plain_text(text: str) -> str:
    """A CLI's output without terminal escape sequences and control characters."""
    from agentctl.core.text import CONTROL_CHARS

    return CONTROL_CHARS.sub("", re.sub(_ANSI_ESCAPE, "", text.replace("\r\n", "\n"))).strip()


def _apply(
    ws: Workspace, actor: Actor, action: Any, started: datetime | None = None
) -> dict[str, Any]:
    kind = action.type
    if kind == "comment":
        message = ws.comment(actor, action.task, action.text, kind=action.kind)
        return {"action": kind, "task": message["task"], "id": message["id"]}
    if kind == "set_status":
        task = ws.move_task(actor, action.task, action.status, action.note)
        return {"action": kind, "task": task["id"], "status": action.status}
    if kind == "create_task":
        task = ws.add_task(
            actor, action.title, description=action.description or "", priority=action.priority,
            assignees=[action.assignee] if action.assignee else None, labels=action.labels or None,
            parent=action.parent, depends_on=action.depends_on or None, criteria=action.criteria or None,
        )  # fmt: skip
        return {"action": kind, "task": task["id"]}
    if kind == "assign":
        task = ws.assign(actor, action.task, [action.agent])
        return {"action": kind, "task": task["id"], "agent": action.agent}
    if kind == "claim":
        task = ws.claim(actor, action.task)
        return {"action": kind, "task": task["id"]}
    if kind == "release":
        task = ws.release(actor, action.task)
        return {"action": kind, "task": task["id"]}
    if kind == "write_doc":
        doc = ws.add_doc(actor, action.title, action.doc_type, action.body, action.task)
        return {"action": kind, "task": doc.get("task"), "doc": doc["id"]}
    if kind == "fetch_doc":
        doc = ws.fetch_doc(actor, action.url, action.task, action.title)
        return {
            "action": kind,
            "task": doc.get("task"),
            "doc": doc["id"],
            "outcome": doc["outcome"],
        }
    if kind == "remember":
        ws.add_memory(actor.name, action.text, long_term=action.long_term, actor=actor)
        return {"action": kind}
    if kind == "notify":
        if action.task:
            message = ws.comment(actor, action.task, f"@{action.agent} {action.text}")
            return {"action": kind, "task": message["task"], "agent": action.agent}
        ws.direct_message(actor, action.agent, action.text)
        return {"action": kind, "agent": action.agent}
    if kind == "dispatch":
        # The tick's clock: availability (silence, active hours) is judged at the tick's time.
        result = ws.dispatch(actor, limit=action.limit, now=started)
        return {"action": kind, "assigned": [{"task": a["task"], "agent": a["agent"]} for a in result["assignments"]],
                "skipped": len([s for s in result["skips"] if s["kind"] == "task"])}  # fmt: skip
    if kind == "plan":
        report = ws.plan_subtasks(actor, action.parent, action.subtasks)
        subtasks = [node["id"] for node in report["tasks"]]
        return {"action": kind, "task": ws.resolve_task(action.parent), "subtasks": subtasks,
                "created": report["created"], "updated": report["updated"]}  # fmt: skip
    if kind == "propose_agent":
        agent = ws.propose_agent(
            actor, action.name, action.role, capabilities=action.capabilities, level=action.level,
            runtime=action.runtime, persona=action.persona, reason=action.reason,
        )  # fmt: skip
        return {"action": kind, "agent": agent["name"], "approval": "pending"}
    raise AssertionError(f"unhandled action {kind}")


def _close_tick(
    ws: Workspace, name: str, work: Work, started: datetime, record: dict[str, Any],
    applied: list[dict[str, Any]], rejected: list[dict[str, Any]], current: str | None,
) -> None:  # fmt: skip
    """Mark notifications delivered and record the tick (inside the tick's batch)."""
    actor = ws.actor(name)
    delivered = [n["id"] for n in work.notifications]
    if delivered:
        ws.mark_delivered(actor, delivered, name)
    done = [a for a in applied if a["action"] != "noop"]
    record.update(outcome="worked", applied=len(done), rejected=len(rejected), actions=applied,
                  rejections=rejected[:LOGGED_REJECTIONS])  # fmt: skip
    if (
        len(rejected) > LOGGED_REJECTIONS
    ):  # e.g. 10,000 actions past max_actions: one line each is enough
        record["rejections_omitted"] = len(rejected) - LOGGED_REJECTIONS
    changes = {"status": "idle", "last_heartbeat": stamp(started), "last_outcome": "worked", "failures": 0,
               "retry_after": None, "current_task": current}  # fmt: skip
    data: ev.AgentHeartbeat = {"outcome": "worked", "applied": len(done), "rejected": len(rejected),
                               "tokens": record.get("tokens_in", 0) + record.get("tokens_out", 0), "cost_usd": record.get("cost_usd", 0.0)}  # fmt: skip
    ws.record_heartbeat(name, changes, data)


def _record_idle(ws: Workspace, name: str, state: AgentStateRecord, started: datetime) -> None:
    """Idle beats touch the tracked state at most every ``record_idle_every``, and whenever
    another machine wrote it last (this one names itself its writer)."""
    every = timedelta(seconds=parse_duration(ws.config["heartbeat"]["record_idle_every"]))
    last = parse_ts(state.get("last_heartbeat"))
    if (
        last is not None
        and started - last < every
        and state.get("last_outcome") == "idle"
        and state.get("host") == ws.host
    ):
        return
    ws.record_heartbeat(name, {"last_heartbeat": stamp(started), "last_outcome": "idle"})


def _leads(ws: Workspace, name: str) -> list[str]:
    return [a["name"] for a in ws.index.agents() if a.get("level") == "lead" and a["name"] != name]


def _record_failure(
    ws: Workspace,
    name: str,
    state: AgentStateRecord,
    started: datetime,
    record: dict[str, Any],
    reason: str,
) -> None:
    config = ws.config["heartbeat"]
    failures = int(state.get("failures", 0)) + 1
    backoff = parse_duration(config["backoff"]) * (2 ** (failures - 1))
    blocked = failures >= int(config["max_failures"])
    changes: dict[str, Any] = {"failures": failures, "last_heartbeat": stamp(started), "last_outcome": "failed",
                               "retry_after": stamp(started + timedelta(seconds=backoff))}  # fmt: skip
    if blocked:
        changes.update(status="blocked", retry_after=None)
    record.update(outcome="failed", error=reason, failures=failures, blocked=blocked)
    data: ev.AgentHeartbeat = {
        "outcome": "failed",
        "error": reason[:300],
        "failures": failures,
        "blocked": blocked,
    }
    ws.record_heartbeat(name, changes, data, notify=_leads(ws, name) if blocked else None)


def _record_budget(ws: Workspace, name: str, started: datetime, exc: BudgetError) -> None:
    """The first budget stop of a UTC day is an event that tells the leads; later ticks of
    that day only update the state (not one notification per beat until the budget resets)."""
    state = ws.index.states().get(name, {})
    last = parse_ts(state.get("last_heartbeat"))
    changes = {"last_heartbeat": stamp(started), "last_outcome": "budget"}
    if (
        state.get("last_outcome") == "budget"
        and last is not None
        and last.date() == started.astimezone(UTC).date()
    ):
        ws.record_heartbeat(name, changes)
        return
    data: ev.AgentHeartbeat = {"outcome": "budget", "error": exc.message[:300]}
    ws.record_heartbeat(name, changes, data, notify=_leads(ws, name))


def tick_all(
    ws: Workspace, dry_run: bool = False, include_unowned: bool = False
) -> list[dict[str, Any]]:
    """One tick of every agent this machine runs (``Workspace.agents_here``), in name order
    (proposed agents not yet approved are skipped); a budget stop of one does not stop the
    rest. New conditions that need attention are raised once, before the round."""
    ws.refresh()
    records = []
    if not dry_run:
        try:
            ws.raise_attention()
        except AgentctlError as exc:  # the round goes on; the next one raises them
            ws.warnings.append(f"conditions needing attention were not raised: {exc.message}")
    for agent in ws.agents_here(include_unowned):
        if is_pending(agent):  # not ticked: a person has not approved it yet
            records.append(
                {"agent": agent["name"], "outcome": "skipped", "reason": "waiting for approval"}
            )
            continue
        try:
            records.append(tick(ws, agent["name"], dry_run=dry_run, escalate=False))
        except BudgetError as exc:
            records.append({"agent": agent["name"], "outcome": "budget", "error": exc.message})
    return records


def exit_code(records: list[dict[str, Any]]) -> int:
    from agentctl.errors import ExitCode

    outcomes = {r.get("outcome") for r in records}
    if "budget" in outcomes:
        return int(ExitCode.BUDGET)
    if "failed" in outcomes:
        return int(ExitCode.RUNTIME)
    if "refused" in outcomes:  # a simulated agent outside allow_simulated: a configuration to fix
        return int(ExitCode.CONFLICT)
    return 0
