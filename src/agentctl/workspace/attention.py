"""Escalation in the workspace: what needs attention now, and raising it once.

Detection is pure (core/attention.py) over index data (store/index_dispatch.py). Raising is a
mutation: every condition whose key has no ``attention.raised`` event yet gets one (a batch:
one journal entry, one commit), notifying the leads; with no lead it notifies nobody and
``inbox --human`` lists the conditions. WORKING.md's "Needs attention" lists the raised
conditions that still hold. Read commands only list; raising happens where work
is already being written (docs/planning.md, "Escalation"): a lead's heartbeat tick (or any
tick when the workspace has no lead), once per ``heartbeat --all`` round, and
``agentctl dispatch``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from agentctl.core import clock
from agentctl.core.rules import Actor
from agentctl.workspace.tasks import TaskOps

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.core.attention import Condition
    from agentctl.workspace.base import WorkspaceBase

# core/attention.py and the queries are imported where used: every command imports this
# module (the Workspace class), and most never look at attention.

SYSTEM = Actor("agentctl")  # the tool raises conditions: never a lead, so every lead is told
MAX_RAISED = 100  # conditions raised by one round at most; the rest follow in the next rounds


class _NothingNew(Exception):
    """Leaves the raising mutation without writing anything."""


def current_conditions(ws: WorkspaceBase, now: datetime) -> list[Condition]:
    """Every condition that holds at ``now`` (caller has refreshed the index)."""
    from agentctl.core.attention import Settings, detect, local_time
    from agentctl.store.index_dispatch import attention_facts

    today = clock.utc_day(now)
    facts = attention_facts(ws.index, ws.workflow, today)
    return detect(facts, Settings.from_config(ws.config), now, local_time(now))


def raised_and_unresolved(ws: WorkspaceBase) -> list[Condition]:
    """The conditions raised so far that still hold, judged as of the latest event: what
    WORKING.md shows. It is a pure function of the records and the log, never of the wall
    clock (rendering twice gives the same bytes), and costs a look at the raised conditions'
    subjects only. A new condition appears when it is raised (a mutation, so a re-render)."""
    from agentctl.store.index_dispatch import raised

    keys = raised(ws.index)
    if not keys:
        return []
    from agentctl.core.attention import Settings, detect, local_time
    from agentctl.store.index_dispatch import attention_facts, last_event_ts

    moment = clock.parse(last_event_ts(ws.index))
    if moment is None:
        return []
    tasks = sorted({subject for subject, _ in keys.values() if subject.startswith("t-")})
    today = clock.utc_day(moment)
    facts = attention_facts(ws.index, ws.workflow, today, ids=tasks)
    return [
        c
        for c in detect(facts, Settings.from_config(ws.config), moment, local_time(moment))
        if c.key in keys
    ]


class AttentionOps(TaskOps):
    def attention(self, now: datetime | None = None) -> dict[str, Any]:
        """Current conditions, each with when it was raised (None: not raised yet). Read-only."""
        from agentctl.store.index_dispatch import raised

        self.refresh()
        moment = now or clock.now()
        conditions = current_conditions(self, moment)
        first = {key: ts for key, (_, ts) in raised(self.index).items()}
        leads = self._leads()
        return {
            "as_of": clock.stamp(moment),
            "notify": leads,
            "conditions": [{**c.as_dict(), "raised": first.get(c.key)} for c in conditions],
        }

    def raise_attention(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Raise every current condition not raised before (at most ``MAX_RAISED``); returns
        the ones raised now. Nothing new: nothing is written."""
        from agentctl.core.attention import RAISED

        moment = now or clock.now()
        self.refresh()
        if not self._unraised(moment):  # the common case, decided without the lock
            return []
        try:
            with self._mutate(SYSTEM) as m:
                new = self._unraised(moment)
                if not new:
                    raise _NothingNew
                new = new[:MAX_RAISED]
                leads = self._leads()
                m.batch_subject = f"{len(new)} condition(s) need attention"
                for condition in new:
                    data: ev.AttentionRaised = {
                        "key": condition.key, "kind": condition.kind, "subject": condition.subject,
                        "state": condition.state, "detail": condition.detail, "title": condition.title,
                        "assignees": list(condition.assignees),
                    }  # fmt: skip
                    m.record_more(
                        RAISED,
                        condition.subject,
                        data,
                        [n for n in leads if n != condition.subject],
                    )
                returned = [c.as_dict() for c in new]
        except _NothingNew:
            return []
        return returned

    def _unraised(self, moment: datetime) -> list[Condition]:
        from agentctl.store.index_dispatch import raised

        conditions = current_conditions(self, moment)
        if not conditions:
            return []
        known = raised(self.index)
        return [c for c in conditions if c.key not in known]

    def _leads(self) -> list[str]:
        return [a["name"] for a in self.index.agents() if a.get("level") == "lead"]
