"""The workspace as read commands open it: the facade's read methods alone.

:class:`Reader` is :class:`agentctl.workspace.Workspace` cut down to the mixins that the
read commands call (task list/show/ready, thread, inbox, search): opening it imports
``base``, ``tasks`` and ``collab`` but not the ~25 modules of the operations reads never
call (planning, specs, sync, git hooks, agents, memory, gates ...). Every attribute it has
is the very one the facade has (no mixin of the facade overrides one of them), so a read
through it is the same read: ``tests/test_startup.py`` checks that.
"""

from __future__ import annotations

from agentctl.workspace.collab import CollabOps


class Reader(CollabOps):
    """A workspace opened for reading (see the module's docstring)."""
