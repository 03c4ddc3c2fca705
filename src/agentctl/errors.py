"""Domain errors and the documented process exit codes.

Every failure a user can cause is an :class:`AgentctlError` subclass carrying one exit code.
The CLI boundary (``agentctl.cli.boundary``) turns them into a one-line message on stderr
and that exit code; nothing else in the code base prints errors or picks exit codes.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes. Documented in docs/cli.md; a test keeps the two in step."""

    OK = 0
    ERROR = 1  # unexpected internal error (a bug: please report it)
    USAGE = (
        2  # bad command line: unknown option, bad value, missing argument; an unusable input file
    )
    NOT_FOUND = 3  # no such task/agent/record, or no workspace found
    AMBIGUOUS = 4  # an ID prefix matches several records
    CONFLICT = 5  # the request conflicts with current state (illegal transition, cycle, exists)
    VALIDATION = 6  # a record or config file on disk is invalid
    PERMISSION = 7  # the acting agent may not do this
    LOCK_TIMEOUT = 8  # the workspace lock could not be taken in time
    GIT = 9  # a git operation failed (e.g. a stale .git/index.lock)
    BUDGET = 10  # an agent's token/cost budget is exhausted
    RUNTIME = 11  # an agent runtime failed: missing API key, command not found, timeout, bad answer
    STORAGE = 12  # a file could not be written: disk full, read-only file system, no permission
    NETWORK = 13  # a download failed: unreachable host, timeout, HTTP error, page too large


class AgentctlError(Exception):
    """Base class: a message for the user, an optional hint, and an exit code."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(AgentctlError):
    exit_code = ExitCode.USAGE


class NotFoundError(AgentctlError):
    exit_code = ExitCode.NOT_FOUND


class AmbiguousError(AgentctlError):
    exit_code = ExitCode.AMBIGUOUS


class ConflictError(AgentctlError):
    exit_code = ExitCode.CONFLICT


class ValidationError(AgentctlError):
    """A file on disk is invalid. ``path``/``line`` locate the problem when known."""

    exit_code = ExitCode.VALIDATION

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        location = ""
        if path is not None:
            location = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(location + message, hint)
        self.path = path
        self.line = line
        self.problem = message


class PermissionDeniedError(AgentctlError):
    exit_code = ExitCode.PERMISSION


class LockTimeoutError(AgentctlError):
    exit_code = ExitCode.LOCK_TIMEOUT


class GitError(AgentctlError):
    exit_code = ExitCode.GIT


class BudgetError(AgentctlError):
    exit_code = ExitCode.BUDGET


class NetworkError(AgentctlError):
    """A page could not be downloaded (``agentctl fetch``, the fetch_doc action)."""

    exit_code = ExitCode.NETWORK


class RuntimeFailure(AgentctlError):
    """An agent's runtime could not produce an answer (the tick is recorded as failed)."""

    exit_code = ExitCode.RUNTIME
