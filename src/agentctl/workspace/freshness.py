"""How a long-running front end (the board, the MCP server) notices changes made by other
processes, CLI writers and git, without re-reading everything: two stat signatures.

* :meth:`FreshnessOps.change_signature` is cheap: the stat of each record directory (a file
  created, deleted or atomically replaced changes its directory), the config, the newest
  event log and each agent's read-state log.
* :meth:`FreshnessOps.records_signature` stats every task, agent (and doc) file: it also
  catches an edit made in place, which leaves the directory untouched. It costs a stat per
  file, so front ends run it at a slower cadence or off their call path.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentctl.paths import Layout


# A big record directory counts as changed for front ends once per this many seconds.
BIG_DIRECTORY_PERIOD = 30.0


def stat_key(path: Path) -> tuple[int, int, int] | None:
    """(mtime, size, inode) of ``path``, or None when it is not there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class FreshnessOps:
    layout: Layout

    def change_signature(self) -> tuple[Any, ...]:
        """Cheap: the record directories, the config, the newest event log, the read-state
        logs (see the module docstring)."""
        layout = self.layout
        keys: list[Any] = [
            stat_key(path)
            for path in (
                layout.tasks,
                layout.agents,
                layout.docs,
                layout.threads,
                layout.events,
                layout.inbox,
                layout.config,
            )
        ]
        for directory in (layout.events, layout.inbox):
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                continue
            # events: only the newest log grows; inbox: one small read-state log per agent
            for name in names[-1:] if directory == layout.events else names:
                keys.append((name, stat_key(directory / name)))
        return tuple(keys)

    def records_signature(self, docs: bool = True) -> int:
        """Every task and agent file's stat (and every doc's with ``docs``): catches the
        in-place edits :meth:`change_signature` misses. A directory as big as the index's
        full-scan threshold contributes its own signature and the current 30 s period
        instead (see :mod:`agentctl.store.index_fresh`): the front end then refreshes once a
        period, and the index checks the next slice of files."""
        from agentctl.store import index_fresh

        layout = self.layout
        big = index_fresh.scan_below()
        period = int(time.time() // BIG_DIRECTORY_PERIOD)
        entries: list[tuple[str, int, int, int]] = []
        directories = (
            (layout.tasks, layout.agents, layout.docs) if docs else (layout.tasks, layout.agents)
        )
        for directory in directories:
            try:
                names = os.listdir(directory)
            except OSError:
                continue
            if len(names) >= big:
                sig = index_fresh.dir_signature(directory)
                entries.append((str(directory), sig or 0, period, len(names)))
                continue
            base = str(directory) + os.sep
            for name in names:
                try:
                    st = os.stat(base + name, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                entries.append((base + name, st.st_mtime_ns, st.st_size, st.st_ino))
        return hash(tuple(sorted(entries)))
