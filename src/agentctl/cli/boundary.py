"""The one place where errors become stderr lines and exit codes.

Domain errors (:class:`agentctl.errors.AgentctlError`) print ``agentctl: error: <message>``
plus an optional ``hint:`` line and exit with their code. Command-line mistakes exit with
USAGE. Anything else is a bug: one line naming the exception (a traceback only with
``AGENTCTL_DEBUG=1``) and exit code 1. Every line written here is masked (core/secrets.py):
an error may quote outside text.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

import click
import typer

# agentctl's own modules (errors, masking, the workspace's warnings) are imported when there is
# something to report: ``agentctl --help`` loads nothing of agentctl beyond the command table.

_STORAGE_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied (operation not permitted)",
}


def _error(message: str, hint: str | None = None) -> None:
    from agentctl.core.secrets import mask
    from agentctl.core.text import neutralise

    text = f"agentctl: error: {message}\n"
    if hint:
        text += f"agentctl: hint: {hint}\n"
    text = mask(text)
    try:
        sys.stderr.write(neutralise(text))
        sys.stderr.flush()
    except OSError:
        pass


def run(app: Any, args: list[str]) -> int:
    # Not imported yet: nothing to reset (the first command of this process).
    secrets = sys.modules.get("agentctl.core.secrets")
    if secrets is not None:
        secrets.reset(names=True)  # this command's environment and config decide what is secret
    common = sys.modules.get("agentctl.cli.common")
    if common is not None:
        common.OPENED.clear()
    try:
        return _run(app, args)
    finally:
        common = sys.modules.get("agentctl.cli.common")
        if common is not None:
            _warn_and_forget(common.OPENED)


def _warn_and_forget(opened: list[Any]) -> None:
    """Print the warnings of the workspaces this command opened, then forget them."""
    from agentctl.core.secrets import mask
    from agentctl.core.text import neutralise

    for workspace in opened:
        for warning in workspace.warnings:
            try:
                sys.stderr.write(neutralise(mask(f"agentctl: warning: {warning}\n")))
            except OSError:
                pass
        workspace.warnings.clear()
    opened.clear()


def _run(app: Any, args: list[str]) -> int:
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="agentctl", standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except Exception as exc:
        return _failed(exc)
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


def _failed(exc: Exception) -> int:
    """The exit code of a command that raised ``exc`` (after its message on stderr); called
    from the ``except`` clause, so a bare ``raise`` re-raises ``exc``."""
    from agentctl.errors import AgentctlError, ExitCode

    try:
        raise exc
    except AgentctlError as exc:
        _error(exc.message, exc.hint)
        return int(exc.exit_code)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        _error("aborted")
        return int(ExitCode.USAGE)
    except click.exceptions.ClickException as exc:
        if isinstance(exc, click.exceptions.NoArgsIsHelpError):
            # A bare group ('agentctl', 'agentctl task') asks for help: not a mistake.
            sys.stdout.write(exc.format_message() + "\n")
            return 0
        usage = getattr(exc, "ctx", None)
        message = exc.format_message()
        hint = None
        if usage is not None:
            hint = f"see '{usage.command_path} --help'"
        _error(message, hint)
        code = getattr(exc, "exit_code", ExitCode.USAGE)
        return int(ExitCode.USAGE if code == 2 else code)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error; silence the flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            return 0
        storage = _STORAGE_ERRORS.get(exc.errno or 0)
        if storage is not None:
            where = f"cannot write {exc.filename}" if exc.filename else "cannot write"
            _error(
                f"{where}: {storage}",
                "fix that and retry: a change that was cut short is completed by the next agentctl command",
            )
            return int(ExitCode.STORAGE)
        _error(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        return int(ExitCode.ERROR)
    except Exception as exc:  # a bug: say so in one line, never a traceback by default
        if os.environ.get("AGENTCTL_DEBUG"):
            raise
        _error(
            f"internal error: {type(exc).__name__}: {exc}",
            "this is a bug; rerun with AGENTCTL_DEBUG=1 and report it",
        )
        return int(ExitCode.ERROR)
