"""Agent memory: ``.agentctl/memory/<agent>/MEMORY.md`` (long-term) and daily notes
``.agentctl/memory/<agent>/<yyyy-mm-dd>.md``.

An entry is a markdown bullet that starts with its UTC timestamp (``- 2026-03-01T09:30:00Z
text``); continuation lines are indented by two spaces, so no entry line can start a heading,
a new bullet or a git conflict marker. Writes go through the one mutation path (one event,
one commit); reads take no lock and never import the YAML, git or pydantic libraries.

``compact_memory`` keeps memory bounded: daily notes older than ``keep_days`` are folded into
MEMORY.md, and MEMORY.md is kept under a size cap by dropping its oldest entries, or, for an
agent on the ``llm`` runtime, by replacing them with a summary written by the model (with
deterministic trimming as the fallback when the model fails). See docs/memory.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.core.memory import (
    DAILY_RE,
    LONG_TERM,
    clean_entry_text,
    cut_text,
    daily_header,
    format_entry,
    is_valid_day,
    left_out,
    long_term_header,
    parse_entries,
    render_memory,
    sort_entries,
    trim_entries,
    without_title,
)
from agentctl.core.rules import Actor
from agentctl.core.text import chars_for
from agentctl.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    UsageError,
    ValidationError,
)
from agentctl.paths import validate_name
from agentctl.workspace.base import WorkspaceBase, now, timestamp

if TYPE_CHECKING:
    from agentctl.core import events as ev

DEFAULT_KEEP_DAYS = 7
DEFAULT_MAX_CHARS = 8000
MIN_MAX_CHARS = 500


@dataclass
class _CompactPlan:
    """What compaction reads (snapshot, to detect changes) and would write."""

    snapshot: dict[str, str]
    long_term_path: Path
    preamble: str
    entries: list[str]
    folded: list[tuple[str, Path]] = field(default_factory=list)
    before_chars: int = 0

    def size(self) -> int:
        return len(render_memory(self.preamble, self.entries))


# -- the workspace operations ------------------------------------------------------------------


class MemoryOps(WorkspaceBase):
    # -- helpers -------------------------------------------------------------------------------

    def _memory_dir(self, agent: str) -> Path:
        """``.agentctl/memory/<agent>``, from a validated name, checked to stay inside."""
        return self.layout.inside(self.layout.memory / validate_name(agent, "agent name"))

    def _memory_agent(self, agent: str, must_exist: bool) -> Path:
        """The agent's memory directory; the agent must exist (for reads it is enough that
        its memory does, so the memory of a removed agent stays readable)."""
        validate_name(agent, "agent name")
        self.refresh()
        directory = self._memory_dir(agent)
        if self.index.agent(agent) is None and (must_exist or not directory.is_dir()):
            raise NotFoundError(f"no agent named {agent!r}", hint="see 'agentctl agent list'")
        return directory

    def _memory_files(self, directory: Path) -> tuple[Path, list[tuple[str, Path]], list[str]]:
        """(MEMORY.md path, daily notes oldest first, other files found)."""
        from agentctl.store.atomic import is_temp

        long_term = self.layout.inside(directory / LONG_TERM)
        try:
            names = sorted(os.listdir(directory))
        except FileNotFoundError:
            return long_term, [], []
        daily: list[tuple[str, Path]] = []
        ignored: list[str] = []
        for name in names:
            if name == LONG_TERM or is_temp(name):
                continue
            match = DAILY_RE.fullmatch(name)
            path = self.layout.inside(directory / name)
            if match and is_valid_day(match.group(1)) and path.is_file():
                daily.append((match.group(1), path))
            else:
                ignored.append(self.layout.relative(path))
        return long_term, daily, ignored

    def _read_memory_file(self, path: Path) -> str:
        from agentctl.store.reading import read_record

        try:
            return read_record(path, self.layout.relative(path))
        except FileNotFoundError:
            return ""

    @staticmethod
    def _check_memory_access(actor: Actor, agent: str, doing: str) -> None:
        if actor.is_agent and actor.name != agent:
            raise PermissionDeniedError(
                f"{actor.name} may not {doing} the memory of {agent}: agents write only their own memory",
                hint="a human can do it",
            )

    # -- reads ---------------------------------------------------------------------------------

    def memory(self, agent: str, days: int | None = None) -> dict[str, Any]:
        """An agent's memory: ``long_term`` (MEMORY.md text, '' if none) and ``daily``, a list
        of (date, text) oldest first (only the latest ``days`` notes when given)."""
        directory = self._memory_agent(agent, must_exist=False)
        long_term_path, daily, ignored = self._memory_files(directory)
        if days is not None:
            if days < 0:
                raise UsageError("--days must be 0 or more")
            daily = daily[len(daily) - days :] if days else []
        return {
            "agent": agent,
            "path": self.layout.relative(directory),
            "long_term": self._read_memory_file(long_term_path),
            "daily": [(day, self._read_memory_file(path)) for day, path in daily],
            "ignored": ignored,
        }

    def search_memory(self, agent: str, query: str, limit: int = 100) -> dict[str, Any]:
        """Lines of an agent's memory that contain every word of ``query`` (case-insensitive),
        with their file and line number: MEMORY.md first, then daily notes newest first."""
        terms = query.lower().split()
        if not terms:
            raise UsageError("the search query is empty")
        if limit < 1:
            raise UsageError("--limit must be 1 or more")
        directory = self._memory_agent(agent, must_exist=False)
        long_term_path, daily, ignored = self._memory_files(directory)
        hits: list[dict[str, Any]] = []
        total = 0
        for path in [long_term_path, *(p for _, p in reversed(daily))]:
            rel = self.layout.relative(path)
            for number, line in enumerate(self._read_memory_file(path).splitlines(), start=1):
                folded = line.lower()
                if all(term in folded for term in terms):
                    total += 1
                    if len(hits) < limit:
                        hits.append({"path": rel, "line": number, "text": line})
        return {"agent": agent, "query": query, "hits": hits, "total": total, "ignored": ignored}

    def memory_context(self, agent: str, budget_chars: int) -> str:
        """Memory for a prompt, at most ``budget_chars`` characters: MEMORY.md first (its
        start kept if it must be cut), then daily notes newest first (the newest lines of a
        note kept if it must be cut); cuts and left-out notes are marked."""
        validate_name(agent, "agent name")
        if budget_chars <= 0:
            return ""
        directory = self._memory_dir(agent)
        if not directory.is_dir():
            return ""
        long_term_path, daily, _ = self._memory_files(directory)
        blocks: list[str] = []
        remaining = budget_chars

        def add(block: str) -> None:
            nonlocal remaining
            blocks.append(block)
            remaining -= len(block) + (1 if len(blocks) > 1 else 0)

        notes = [
            (day, without_title(self._read_memory_file(path))) for day, path in reversed(daily)
        ]
        notes = [(day, text) for day, text in notes if text]

        def reserve(left: int) -> int:
            """Room kept for the marker naming ``left`` notes that will not be shown."""
            return len(left_out(left)) + 1 if left else 0

        long_term = without_title(self._read_memory_file(long_term_path))
        if long_term:
            head = "## Long-term memory\n"
            piece = cut_text(long_term, remaining - len(head) - reserve(len(notes)), keep="head")
            if piece:
                add(head + piece)
        shown = 0
        for day, text in notes:
            head = f"## Notes of {day}\n"
            room = remaining - len(head) - (1 if blocks else 0) - reserve(len(notes) - shown - 1)
            if len(text) <= room:
                add(head + text)
                shown += 1
                continue
            piece = cut_text(text, room, keep="tail")
            if piece:
                add(head + piece)
                shown += 1
            break
        marker = left_out(len(notes) - shown)
        if marker and len(marker) + (1 if blocks else 0) <= remaining:
            add(marker)
        return "\n".join(blocks)

    # -- mutations -----------------------------------------------------------------------------

    def add_memory(
        self, agent: str, text: str, long_term: bool = False, actor: Actor | None = None
    ) -> dict[str, Any]:
        """Append a timestamped entry to today's daily note (or to MEMORY.md)."""
        validate_name(agent, "agent name")
        lines = clean_entry_text(text)
        who = actor or self.actor()
        self._check_memory_access(who, agent, "write")
        with self._mutate(who) as m:
            directory = self._memory_agent(agent, must_exist=True)
            stamp = timestamp()
            day = stamp[:10]
            path = self.layout.inside(directory / (LONG_TERM if long_term else f"{day}.md"))
            if not long_term and path.exists() and not path.is_file():
                raise ValidationError("not a regular file", self.layout.relative(path))
            current = self._read_memory_file(path)
            if not current.strip():
                current = long_term_header(agent) if long_term else daily_header(agent, day)
                current += "\n"
            elif not current.endswith("\n"):
                current += "\n"
            entry = format_entry(stamp, lines)
            m.write(path, current + entry + "\n")
            rel = self.layout.relative(path)
            kind = "long_term" if long_term else "daily"
            # No notification: memory is read at every working tick anyway, and a note from a
            # person should not wake the agent (and spend tokens) on its own.
            added: ev.MemoryAdded = {
                "kind": "long_term" if long_term else "daily",
                "path": rel,
                "chars": len(entry),
            }
            m.record("memory.added", agent, added)
            returned = {"agent": agent, "kind": kind, "path": rel, "entry": entry, "ts": stamp}
        return returned

    def _compact_plan(self, agent: str, directory: Path, keep_days: int) -> _CompactPlan:
        long_term_path, daily, _ = self._memory_files(directory)
        today = now().date()
        current = self._read_memory_file(long_term_path)
        preamble, entries = parse_entries(current)
        if not current.strip():
            preamble = long_term_header(agent).rstrip("\n")
        snapshot = {LONG_TERM: current}
        plan = _CompactPlan(snapshot, long_term_path, preamble, entries, before_chars=len(current))
        for day, path in daily:
            if (today - date.fromisoformat(day)).days < keep_days:
                continue
            text = self._read_memory_file(path)
            snapshot[path.name] = text
            plan.before_chars += len(text)
            note_preamble, note_entries = parse_entries(text)
            extra = [
                line
                for line in note_preamble.splitlines()
                if line.strip() and not line.startswith("# ")
            ]
            if extra:  # hand-written text before the first bullet: keep it as an entry of that day
                note_entries.insert(
                    0, format_entry(f"{day}T00:00:00Z", [line.strip() for line in extra])
                )
            plan.entries.extend(note_entries)
            plan.folded.append((day, path))
        plan.entries = sort_entries(plan.entries)
        return plan

    def _summarise(
        self, agent: str, plan: _CompactPlan, max_chars: int
    ) -> tuple[list[str] | None, str | None]:
        """Entries summarised by the agent's llm runtime, or (None, why it was not used)."""
        from agentctl.runtime.summary import summarise

        return summarise(
            self.index.agent(agent) or {"name": agent},
            plan.entries,
            plan.preamble,
            max_chars,
            chars_for(int(self.config["heartbeat"]["prompt_tokens"])),
            timestamp(),
            root=self.root,
            local_dir=self.layout.local,
            config=self.config,
        )

    def compact_memory(
        self,
        agent: str,
        keep_days: int = DEFAULT_KEEP_DAYS,
        max_chars: int = DEFAULT_MAX_CHARS,
        actor: Actor | None = None,
    ) -> dict[str, Any]:
        """Fold daily notes older than ``keep_days`` into MEMORY.md and keep MEMORY.md under
        ``max_chars`` (oldest entries dropped, or summarised for ``llm`` agents).

        Returns what happened; ``changed`` is False (and nothing is written) when the memory
        already fits and no note is old enough to fold.
        """
        validate_name(agent, "agent name")
        if keep_days < 0:
            raise UsageError("--keep-days must be 0 or more")
        if max_chars < MIN_MAX_CHARS:
            raise UsageError(f"--max-chars must be at least {MIN_MAX_CHARS}")
        who = actor or self.actor()
        self._check_memory_access(who, agent, "compact")
        directory = self._memory_agent(agent, must_exist=True)
        plan = self._compact_plan(agent, directory, keep_days)
        result: dict[str, Any] = {
            "agent": agent,
            "changed": False,
            "method": None,
            "fallback": None,
            "folded": [day for day, _ in plan.folded],
            "dropped": 0,
            "summarised": 0,
            "chars_before": plan.before_chars,
            "chars_after": len(plan.snapshot[LONG_TERM]),
            "max_chars": max_chars,
            "preamble_cut": False,
            "path": self.layout.relative(plan.long_term_path),
        }
        over = plan.size() > max_chars
        if not plan.folded and not over:
            return result
        summary: list[str] | None = None
        fallback: str | None = None
        record = self.index.agent(agent)
        if over and record is not None and record.get("runtime") == "llm":
            summary, fallback = self._summarise(agent, plan, max_chars)  # outside the lock: slow
        with self._mutate(who) as m:
            self._memory_agent(agent, must_exist=True)
            fresh = self._compact_plan(agent, directory, keep_days)
            if summary is not None and fresh.snapshot != plan.snapshot:
                summary, fallback = None, "the memory changed while the summary was written"
            if not fresh.folded and fresh.size() <= max_chars:
                raise ConflictError(
                    f"the memory of {agent} changed meanwhile and needs no compaction now"
                )
            preamble, entries = fresh.preamble, fresh.entries
            cut = False
            if summary is not None:
                method = "llm"
                result["summarised"] = len(entries)
                entries = summary
            elif fresh.size() > max_chars:
                method = "trim"
                preamble, kept, cut = trim_entries(preamble, entries, max_chars)
                result["dropped"] = len(entries) - len(kept)
                entries = kept
            else:
                method = "fold"
            text = render_memory(preamble, entries)
            m.write(fresh.long_term_path, text)
            for _, path in fresh.folded:
                m.delete(path)
            result.update(
                changed=True,
                method=method,
                fallback=fallback,
                folded=[day for day, _ in fresh.folded],
                chars_before=fresh.before_chars,
                chars_after=len(text),
                preamble_cut=cut,
            )
            data: ev.MemoryCompacted = {
                "method": method,
                "folded": result["folded"],
                "dropped": result["dropped"],
                "summarised": result["summarised"],
                "chars_after": result["chars_after"],
            }
            if fallback:
                data["fallback"] = fallback
            m.record("memory.compacted", agent, data)
        return result
