"""The spend ledger: every model call an agent makes, kept in SQLite so budgets hold across
processes (``.agentctl/local/ledger.sqlite``, WAL mode, stdlib only).

One row per call: when, the UTC day, the agent, the model that answered, tokens in and out,
the cost in USD, and whether the answer came from the response cache (cache hits are rows with
zero tokens and zero cost, so they show up in call counts but never in spend).

A budget check and the row that books the call happen in one write transaction
(:meth:`Ledger.reserve`): the call's worst case (prompt estimate + ``max_tokens``, and its
price) is held as a *pending* row until :meth:`Ledger.settle` replaces it with the real
usage or :meth:`Ledger.release` drops it. So any number of processes calling for the same
agent at once can never spend more than the budget allows between them. A pending row left
by a killed process stops counting once its hold time has passed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from agentctl.core import clock
from agentctl.core.clock import utc_day
from agentctl.errors import BudgetError, RuntimeFailure

LEDGER_FILE = "ledger.sqlite"
SCHEMA = 1

_TABLES = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    day TEXT NOT NULL,
    agent TEXT NOT NULL,
    model TEXT,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    cached INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0,
    hold_until REAL);
CREATE INDEX IF NOT EXISTS calls_agent_day ON calls (agent, day);
"""

# What a row costs against the budget: settled rows always, pending rows while held.
_SPENT = """
SELECT COALESCE(SUM(tokens_in + tokens_out), 0), COALESCE(SUM(cost_usd), 0.0)
FROM calls WHERE agent = ? AND day = ? AND (pending = 0 OR hold_until > ?)
"""


def _now(now: datetime | None) -> datetime:
    return now if now is not None else clock.now()


@dataclass(frozen=True)
class AgentSpend:
    """One agent's model use on one UTC day."""

    calls: int  # calls that reached a model (cache hits not included)
    cached: int  # answers served from the response cache
    tokens_in: int
    tokens_out: int
    cost_usd: float

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


def _limits(budget: Mapping[str, Any] | None) -> tuple[int | None, float | None]:
    if not budget:
        return None, None
    tokens, usd = budget.get("daily_tokens"), budget.get("daily_usd")
    return (int(tokens) if tokens is not None else None, float(usd) if usd is not None else None)


def _refusal(
    agent: str,
    budget: Mapping[str, Any] | None,
    spent: tuple[int, float],
    est_tokens: int,
    est_usd: float,
) -> BudgetError | None:
    """The error for a call of this size on top of ``spent``, or None when it fits."""
    max_tokens, max_usd = _limits(budget)
    tokens, usd = spent
    hint = f"raise budget in .agentctl/agents/{agent}.md or wait for the next UTC day"
    if max_tokens is not None:
        if tokens >= max_tokens:
            return BudgetError(
                f"{agent}: daily token budget exhausted ({tokens:,} of {max_tokens:,} used today)",
                hint,
            )
        if tokens + est_tokens > max_tokens:
            return BudgetError(
                f"{agent}: daily token budget would be exceeded ({tokens:,} of {max_tokens:,} used "
                f"today; this call may use up to {est_tokens:,})",
                hint,
            )
    if max_usd is not None:
        if usd >= max_usd:
            return BudgetError(
                f"{agent}: daily cost budget exhausted (${usd:,.4f} of ${max_usd:,.2f} spent today)",
                hint,
            )
        if usd + est_usd > max_usd:
            return BudgetError(
                f"{agent}: daily cost budget would be exceeded (${usd:,.4f} of ${max_usd:,.2f} spent "
                f"today; this call may cost up to ${est_usd:,.4f})",
                hint,
            )
    return None


def _use_wal(db: sqlite3.Connection, patience: float = 30.0) -> None:
    """Switch a new ledger to WAL. Several processes creating it at once can make the switch
    fail with "database is locked" without SQLite's busy handler being consulted, so retry."""
    deadline = time.monotonic() + patience
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")  # a file system without WAL keeps its mode
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.02)


class Ledger:
    """The ledger file at ``path`` (created on first write)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_local(cls, local_dir: Path) -> Ledger:
        return cls(local_dir / LEDGER_FILE)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise RuntimeFailure(f"spend ledger {self.path}: {exc}") from None
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:
                _use_wal(db)
                db.execute("BEGIN IMMEDIATE")
                for statement in _TABLES.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA}")
                db.execute("COMMIT")
            yield db
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.rollback()
            raise RuntimeFailure(f"spend ledger {self.path}: {exc}") from None
        finally:
            db.close()

    def spent_today(self, agent: str, now: datetime | None = None) -> tuple[int, float]:
        """Tokens and USD ``agent`` has used on the current UTC day (calls in flight count at
        their reserved worst case)."""
        moment = _now(now)
        if not self.path.exists():
            return 0, 0.0
        with self._connect() as db:
            tokens, usd = db.execute(
                _SPENT, (agent, utc_day(moment), moment.timestamp())
            ).fetchone()
        return int(tokens), float(usd)

    def check(
        self,
        agent: str,
        budget: Mapping[str, Any] | None,
        est_tokens: int,
        est_usd: float,
        now: datetime | None = None,
    ) -> None:
        """Raise :class:`BudgetError` if a call of this size would exceed ``budget`` (the agent
        record's ``budget``: ``daily_tokens`` and/or ``daily_usd``; None means unlimited)."""
        if _limits(budget) == (None, None):
            return
        refusal = _refusal(agent, budget, self.spent_today(agent, now), est_tokens, est_usd)
        if refusal is not None:
            raise refusal

    def reserve(
        self,
        agent: str,
        budget: Mapping[str, Any] | None,
        est_tokens: int,
        est_usd: float,
        hold_seconds: float,
        now: datetime | None = None,
    ) -> int:
        """Check the budget and book the call's worst case in one transaction; returns the
        reservation to :meth:`settle` or :meth:`release`."""
        moment = _now(now)
        day = utc_day(moment)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            spent = db.execute(_SPENT, (agent, day, moment.timestamp())).fetchone()
            refusal = _refusal(agent, budget, (int(spent[0]), float(spent[1])), est_tokens, est_usd)
            if refusal is not None:
                db.execute("ROLLBACK")
                raise refusal
            cursor = db.execute(
                "INSERT INTO calls (ts, day, agent, tokens_in, cost_usd, pending, hold_until)"
                " VALUES (?, ?, ?, ?, ?, 1, ?)",
                (
                    moment.timestamp(),
                    day,
                    agent,
                    est_tokens,
                    est_usd,
                    moment.timestamp() + hold_seconds,
                ),
            )
            db.execute("COMMIT")
            row_id = cursor.lastrowid
        assert row_id is not None
        return row_id

    def settle(
        self, reservation: int, model: str | None, tokens_in: int, tokens_out: int, cost_usd: float
    ) -> None:
        """Replace a reservation with the call's real usage (it keeps its day)."""
        with self._connect() as db:
            db.execute(
                "UPDATE calls SET model = ?, tokens_in = ?, tokens_out = ?, cost_usd = ?, pending = 0,"
                " hold_until = NULL WHERE id = ?",
                (model, tokens_in, tokens_out, cost_usd, reservation),
            )

    def release(self, reservation: int) -> None:
        """Drop a reservation whose call produced no answer."""
        with self._connect() as db:
            db.execute("DELETE FROM calls WHERE id = ? AND pending = 1", (reservation,))

    def record(
        self,
        agent: str,
        model: str | None,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float,
        cached: bool = False,
        now: datetime | None = None,
    ) -> None:
        """Append one settled call."""
        moment = _now(now)
        with self._connect() as db:
            db.execute(
                "INSERT INTO calls (ts, day, agent, model, tokens_in, tokens_out, cost_usd, cached)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    moment.timestamp(),
                    utc_day(moment),
                    agent,
                    model,
                    tokens_in,
                    tokens_out,
                    cost_usd,
                    int(cached),
                ),
            )

    def summary(self, day: str | None = None) -> dict[str, AgentSpend]:
        """Per agent on ``day`` (default: today, UTC): calls, cache hits, tokens and cost of
        settled calls. Empty when the ledger does not exist yet (reading never creates it)."""
        if not self.path.exists():
            return {}
        wanted = day or utc_day(clock.now())
        with self._connect() as db:
            rows = db.execute(
                "SELECT agent, SUM(cached = 0), SUM(cached), SUM(tokens_in), SUM(tokens_out), SUM(cost_usd)"
                " FROM calls WHERE day = ? AND pending = 0 GROUP BY agent ORDER BY agent",
                (wanted,),
            ).fetchall()
        return {
            agent: AgentSpend(int(calls), int(cached), int(t_in), int(t_out), float(usd))
            for agent, calls, cached, t_in, t_out, usd in rows
        }


def summary(local_dir: Path, day: str | None = None) -> dict[str, AgentSpend]:
    """Per-agent model use today (UTC) from ``local_dir``'s ledger, for ``agentctl runs`` and
    ``agent show``: ``{agent: AgentSpend(calls, cached, tokens_in, tokens_out, cost_usd)}``."""
    return Ledger.for_local(local_dir).summary(day)


def hold_time(timeout: float, attempts: int) -> float:
    """How long a reservation counts before it is treated as abandoned: every attempt running
    to its timeout, plus a minute of slack."""
    return timeout * max(attempts, 1) + 60.0


__all__ = ["LEDGER_FILE", "AgentSpend", "Ledger", "hold_time", "summary", "utc_day"]
