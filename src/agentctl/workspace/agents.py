"""Agent operations of the workspace facade."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from agentctl.core.rules import Actor
from agentctl.core.text import check_line, check_lines, check_text
from agentctl.errors import ConflictError, NotFoundError, UsageError
from agentctl.paths import validate_name
from agentctl.store.reading import read_record
from agentctl.workspace.base import Mutation, timestamp
from agentctl.workspace.tasks import TaskOps, validate_model

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.core.records import AgentRecord
    from agentctl.core.rows import AgentRow

AGENT_ORDER = [
    "name", "role", "level", "capabilities", "runtime", "model", "api_base", "command", "output", "sandbox", "host", "heartbeat", "budget",
    "permissions", "approval", "proposed_by", "created_at",
]  # fmt: skip
SYSTEM_NAME = "agentctl"  # the actor of what the tool does on its own (containment)


def preset_fields(name: str) -> dict[str, Any]:
    """The ``command`` and ``output`` of a coding-agent preset (runtime/presets.py)."""
    from agentctl.runtime.presets import PRESETS

    preset = PRESETS.get(name)
    if preset is None:
        raise UsageError(f"unknown preset {name!r}; presets are: {', '.join(PRESETS)}")
    return {"command": list(preset.command), "output": preset.output}


class _Clean(Exception):
    """Nothing to contain: leaves the containment mutation without writing."""


STATE_ORDER = [
    "status",
    "current_task",
    "last_heartbeat",
    "last_outcome",
    "inbox_cursor",
    "failures",
    "retry_after",
    "host",
]


class AgentOps(TaskOps):
    # -- which machine runs which agent (docs/teams.md) --------------------------------

    @property
    def host(self) -> str:
        """This machine's name (``agentctl host``): the ``host`` of the agents it runs."""
        from agentctl.workspace.hosts import machine_host

        return machine_host(self.layout)[0]

    def has_remote(self) -> bool:
        """Whether the workspace's git repository has a remote (other machines may share it)."""
        repo = self.repo
        return repo is not None and bool(repo.remotes())

    def agents_here(self, include_unowned: bool = False) -> list[AgentRecord]:
        """The agents this machine ticks, by name: those whose ``host`` is this machine, and
        unowned ones when ``include_unowned`` or the workspace has no git remote."""
        from agentctl.core.ownership import runs_here

        self.refresh()
        agents = self.index.agents()
        host = self.host
        if not include_unowned and any(not agent.get("host") for agent in agents):
            include_unowned = not self.has_remote()
        return [agent for agent in agents if runs_here(agent, host, include_unowned)]

    def require_runs_here(self, name: str) -> None:
        """ConflictError when agent ``name`` is owned by another machine."""
        self.refresh()
        agent = self._agent_row(name)
        owner, host = agent.get("host"), self.host
        if owner and owner != host:
            raise ConflictError(
                f"agent {name} runs on host {owner}, not on this machine ({host})",
                hint=f"tick it there, hand it over with 'agentctl agent move {name} --host {host}', "
                "or pass --force",
            )

    # -- reads -------------------------------------------------------------------------

    def list_agents(self) -> list[AgentRow]:
        """Every agent with its runtime state (status, last heartbeat, failures), by name, from
        the index."""
        self.refresh()
        states = self.index.states()
        open_statuses = [s for s in self.workflow["statuses"] if s not in self.workflow["done"]]
        load = self.index.open_load(open_statuses)
        result: list[AgentRow] = []
        for agent in self.index.agents():
            state = states.get(agent["name"], {})
            result.append(
                {
                    **agent,
                    "state": {"status": "idle", **state},
                    "open_tasks": load.get(agent["name"], 0),
                }
            )
        return result

    def show_agent(self, name: str) -> dict[str, Any]:
        """One agent: its record, runtime state, open tasks and recent heartbeats."""
        from agentctl.store.frontmatter import load_fast

        self.refresh()
        validate_name(name, "agent name")
        agent = self.index.agent(name)
        if agent is None:
            raise NotFoundError(f"no agent named {name!r}", hint="see 'agentctl agent list'")
        path = self.layout.agent(name)
        _, persona = load_fast(
            read_record(path, self.layout.relative(path)), self.layout.relative(path)
        )
        state = self.index.states().get(name, {})
        open_statuses = [s for s in self.workflow["statuses"] if s not in self.workflow["done"]]
        return {
            **agent,
            "path": self.layout.relative(path),
            "state": {"status": "idle", **state},
            "tasks": self.index.tasks(open_statuses, assignee=name),
            "persona": persona,
        }

    # -- helpers -----------------------------------------------------------------------

    def _agent_row(self, name: str) -> AgentRecord:
        validate_name(name, "agent name")
        agent = self.index.agent(name)
        if agent is None:
            raise NotFoundError(f"no agent named {name!r}", hint="see 'agentctl agent list'")
        return agent

    def _stage_state(self, m: Mutation, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Stage an agent's state with ``changes``, naming this machine as its last writer
        (unless ``changes`` names one)."""
        from agentctl.store.frontmatter import dump_yaml

        state = {**self.index.states().get(name, {}), "host": self.host, **changes}
        state = {k: state[k] for k in STATE_ORDER if state.get(k) is not None}
        validate_model("AgentState", state, self.layout.relative(self.layout.agent_state(name)))
        m.write(self.layout.agent_state(name), dump_yaml(state))
        return state

    # -- mutations ---------------------------------------------------------------------

    def add_agent(
        self,
        actor: Actor,
        name: str,
        role: str,
        level: str = "specialist",
        capabilities: list[str] | None = None,
        runtime: str = "manual",
        model: str | None = None,
        command: list[str] | None = None,
        every: str | None = None,
        persona: str | None = None,
        sandbox: str | None = None,
        api_base: str | None = None,
        host: str | None = None,
        output: str | None = None,
        preset: str | None = None,
    ) -> dict[str, Any]:
        """Create an agent record (``agents/<name>.md``) with its role, level, capabilities and
        runtime, run by machine ``host`` (default: this one); needs ``manage_agents``.
        ``preset`` (command runtime): a coding-agent CLI's command line and output format
        (runtime/presets.py), unless ``command`` / ``output`` are given. Returns the new record."""
        from agentctl.config import template_text
        from agentctl.store.frontmatter import Document

        actor.require("edit_agents", "add agents")
        if preset is not None:
            if runtime != "command":
                raise UsageError("--preset is for the command runtime: add --runtime command")
            chosen = preset_fields(preset)
            command = command or chosen["command"]
            output = output or chosen["output"]
        validate_name(name, "agent name")
        host = validate_name(host, "host name") if host is not None else self.host
        _check_agent_text(
            {
                "role": role,
                "capabilities": capabilities,
                "model": model,
                "command": command,
                "persona": persona,
            }
        )
        with self._mutate(actor) as m:
            if self.index.agent(name) is not None or self.layout.agent(name).exists():
                raise ConflictError(f"an agent named {name!r} already exists")
            if runtime == "command" and not command:
                raise UsageError("the command runtime needs --command")
            fields: dict[str, Any] = {
                "name": name,
                "role": role,
                "level": level,
                "capabilities": list(dict.fromkeys(capabilities or [])),
                "runtime": runtime,
                "model": model,
                "api_base": api_base,
                "command": command,
                "output": output,
                "sandbox": sandbox,
                "host": host,
                "heartbeat": {"every": every} if every else None,
                "created_at": timestamp(),
            }
            fields = {k: v for k, v in fields.items() if v is not None}
            path = self.layout.agent(name)
            validate_model("Agent", fields, self.layout.relative(path))
            if persona is None:
                strengths = "\n".join(f"- {c}" for c in fields["capabilities"]) or "- general work"
                persona = (
                    template_text("persona.md")
                    .replace("{name}", name)
                    .replace("{role}", role)
                    .replace("{level}", level)
                    .replace("{capabilities}", strengths)
                )
            m.create(path, Document.new(fields, persona).dumps())
            self._stage_state(m, name, {"status": "idle"})
            added: ev.AgentAdded = {"role": role, "level": level}
            m.record("agent.added", name, added)
            returned = fields
        return returned

    def preset_fields(self, name: str) -> dict[str, Any]:
        """The ``command`` and ``output`` fields a coding-agent preset gives a command agent."""
        return preset_fields(name)

    def edit_agent(self, actor: Actor, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change fields of an agent record (role, level, capabilities, runtime, model,
        schedule, persona, ...), validated as a whole; needs ``manage_agents``."""
        from agentctl.store.frontmatter import Document

        actor.require("edit_agents", "edit agents")
        if {"approval", "proposed_by"} & set(changes):
            raise UsageError(
                "an agent's approval is changed only by 'agent approve' or 'agent reject'"
            )
        if "host" in changes:
            raise UsageError("an agent's host is changed only by 'agent move NAME --host HOST'")
        _check_agent_text(changes)
        with self._mutate(actor) as m:
            self._agent_row(name)
            if not changes:
                raise UsageError("nothing to change: give at least one field option")
            path = self.layout.agent(name)
            rel = self.layout.relative(path)
            doc = Document.parse(read_record(path, rel), rel)
            merged = {k: v for k, v in {**doc.plain(), **changes}.items() if v is not None}
            if merged.get("runtime") == "command" and not merged.get("command"):
                raise UsageError("the command runtime needs --command")
            validate_model("Agent", merged, rel)
            doc.update(changes, order=AGENT_ORDER)
            m.write(path, doc.dumps())
            edited: ev.AgentEdited = {"fields": sorted(changes)}
            m.record("agent.edited", name, edited)
            returned = merged
        return returned

    def move_agent(self, actor: Actor, name: str, host: str) -> dict[str, Any]:
        """Hand agent ``name`` over to machine ``host``: from now on only that machine ticks it.
        One ``agent.moved`` event; the agent's state is handed over too (no last writer until
        the new host's first tick). Needs ``edit_agents``. Returns the record, ``from`` (the
        previous host, None when unowned) and ``to``."""
        from agentctl.store.frontmatter import Document

        actor.require("edit_agents", "move agents")
        validate_name(host, "host name")
        with self._mutate(actor) as m:
            previous = self._agent_row(name).get("host")
            if previous == host:
                raise ConflictError(f"agent {name} already runs on host {host}")
            path = self.layout.agent(name)
            rel = self.layout.relative(path)
            doc = Document.parse(read_record(path, rel), rel)
            merged = {**doc.plain(), "host": host}
            validate_model("Agent", merged, rel)
            doc.update({"host": host}, order=AGENT_ORDER)
            m.write(path, doc.dumps())
            self._stage_state(m, name, {"host": None})
            moved: ev.AgentMoved = {"from": previous, "to": host}
            m.record("agent.moved", name, moved)
            returned = {"agent": merged, "from": previous, "to": host}
        return returned

    def remove_agent(self, actor: Actor, name: str, force: bool = False) -> dict[str, Any]:
        """Delete an agent record; refused while tasks are assigned to it unless ``force``
        (which unassigns them); needs ``manage_agents``."""
        actor.require("edit_agents", "remove agents")
        with self._mutate(actor) as m:
            agent = self._agent_row(name)
            open_statuses = [s for s in self.workflow["statuses"] if s not in self.workflow["done"]]
            assigned = self.index.tasks(open_statuses, assignee=name)
            if assigned and not force:
                shown = ", ".join(t["id"] for t in assigned[:5]) + (
                    " ..." if len(assigned) > 5 else ""
                )
                raise ConflictError(
                    f"{name} still has {len(assigned)} open task(s): {shown}",
                    hint="reassign them, or use --force to unassign them",
                )
            flow = self.workflow
            for task in assigned:
                remaining = [a for a in task["assignees"] if a != name]
                changes: dict[str, Any] = {"assignees": remaining}
                claim = task.get("claim")
                if claim and claim.get("claimed_by") == name:
                    changes["claim"] = None
                if not remaining and task["status"] == flow["assigned"]:
                    changes["status"] = flow["initial"]
                self._stage_task(m, task["id"], changes)
            m.delete(self.layout.agent(name))
            m.delete(self.layout.agent_state(name))
            removed: ev.AgentRemoved = {
                "agent": cast("dict[str, Any]", agent),  # the payload holds the record as it was
                "unassigned": [t["id"] for t in assigned],
            }
            m.record("agent.removed", name, removed)
            returned = {**agent, "unassigned": [t["id"] for t in assigned]}
        return returned

    def record_heartbeat(
        self,
        name: str,
        changes: dict[str, Any],
        data: ev.AgentHeartbeat | None = None,
        notify: list[str] | None = None,
    ) -> dict[str, Any]:
        """Update an agent's runtime state after a tick, as the agent. With ``data`` the tick
        is an event (``agent.heartbeat``, notifying ``notify``); without, state bookkeeping."""
        actor = self.actor(name)
        with self._mutate(actor) as m:
            self._agent_row(name)
            state = self._stage_state(m, name, changes)
            if data is not None:
                m.record("agent.heartbeat", name, data, notify)
            else:
                m.bookkeeping = f"{name}: heartbeat ({changes.get('last_outcome', 'recorded')})"
            returned = state
        return returned

    def contain_agent(
        self, name: str, inspect: Callable[[], Any], notify: list[str], started: str | None = None
    ) -> Any:
        """After a command agent's run: under the workspace lock, ``inspect()`` compares the
        workspace with the tick's snapshot (heartbeat/contain.py). If it finds direct changes,
        one mutation by ``agentctl`` restores them, blocks ``name`` and records
        ``agent.contained`` (notifying ``notify``). Returns the findings, or None."""
        try:
            with self._mutate(Actor(SYSTEM_NAME)) as m:
                findings = inspect()
                if findings is None:
                    raise _Clean
                for path, data in findings.restore.items():
                    if data is None:
                        m.delete(path)
                    else:
                        m.write(path, data.decode("utf-8", errors="replace"))
                self._stage_state(m, name, {"status": "blocked", "last_outcome": "contained", "retry_after": None,
                                            "last_heartbeat": started or timestamp()})  # fmt: skip
                contained: ev.AgentContained = {
                    "reverted": findings.reverted,
                    "diff": findings.diff,
                }
                m.record("agent.contained", name, contained, notify)
                returned = findings
        except _Clean:
            return None
        self.refresh(force=True)  # the index saw the changed files while the lock was held
        return returned

    def set_agent_status(self, actor: Actor, name: str, status: str) -> dict[str, Any]:
        """Set an agent's status (``active``, ``paused``, ``blocked``, ...), as a lead or a
        person would."""
        if actor.name != name:
            actor.require("edit_agents", "set another agent's status")
        with self._mutate(actor) as m:
            self._agent_row(name)
            previous = self.index.states().get(name, {}).get("status", "idle")
            if previous == status:
                raise ConflictError(f"{name} is already {status}")
            changes: dict[str, Any] = {"status": status}
            if status == "idle":
                changes["failures"] = 0
            state = self._stage_state(m, name, changes)
            changed: ev.AgentStatus = {"from": previous, "to": status}
            m.record("agent.status", name, changed)
            returned = state
        return returned

    def reset_agent(self, actor: Actor, name: str) -> dict[str, Any]:
        """Clear an agent's failure count and backoff, and unblock it, after its cause was
        fixed: the next tick runs at once. One ``agent.reset`` event."""
        if actor.name != name:
            actor.require("edit_agents", "reset another agent")
        with self._mutate(actor) as m:
            self._agent_row(name)
            previous = self.index.states().get(name, {})
            status = previous.get("status", "idle")
            failures = int(previous.get("failures") or 0)
            retry_after = previous.get("retry_after")
            if not failures and not retry_after and status != "blocked":
                raise ConflictError(f"{name} has no failures, backoff or block to reset")
            changes: dict[str, Any] = {"failures": 0, "retry_after": None}
            if status == "blocked":
                changes["status"] = "idle"
            state = self._stage_state(m, name, changes)
            reset: ev.AgentReset = {
                "failures": failures,
                "retry_after": str(retry_after) if retry_after else None,
                "status": status,
            }
            m.record("agent.reset", name, reset)
            returned = state
        return returned


_AGENT_LINES = {"role": "role", "model": "model", "runtime": "runtime", "level": "level"}
_AGENT_LISTS = {"capabilities": "capability", "command": "command argument"}


def _check_agent_text(fields: dict[str, Any]) -> None:
    """The one text rule (agentctl.core.text) for an agent's fields and persona."""
    for key, value in fields.items():
        if key in _AGENT_LINES and isinstance(value, str):
            check_line(value, _AGENT_LINES[key])
        elif key in _AGENT_LISTS and isinstance(value, list):
            check_lines([str(item) for item in value], _AGENT_LISTS[key])
        elif key == "persona" and isinstance(value, str):
            check_text(value, "persona")
