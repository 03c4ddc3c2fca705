"""The workspace's block in the user's crontab: rendering, replacing, removing and reading it.

One workspace owns one block, delimited by two marker lines that name its absolute path, so
several workspaces can each have a block in the same crontab::

    # BEGIN agentctl /home/me/project
    # Managed by 'agentctl cron install'; remove with 'agentctl cron uninstall'.
    2,17,32,47 * * * * cd /home/me/project && PATH=... /venv/bin/python -m agentctl ...
    # END agentctl /home/me/project

Text outside the block is never changed: the crontab is split on ``\\n`` only and joined
back, so other lines and comments survive byte for byte. The only I/O here is the
``crontab`` command (``crontab -l`` to read, ``crontab -`` to write; never a shell) and the
log files; the rest are pure functions of strings.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from agentctl.core.schedule import DAY, Schedule, ScheduleError, exact_duration
from agentctl.errors import AgentctlError, ConflictError, ExitCode, NotFoundError
from agentctl.store import reading

BEGIN = "# BEGIN agentctl "
END = "# END agentctl "
NOTE = "# Managed by 'agentctl cron install'; remove with 'agentctl cron uninstall'."
MINUTE_INTERVALS = "1m, 2m, 3m, 4m, 5m, 6m, 10m, 12m, 15m, 20m, 30m"
HOUR_INTERVALS = "1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h"
TIMEOUT = 30.0


class CrontabError(AgentctlError):
    """The ``crontab`` command refused to list or install the table (its message is shown)."""

    exit_code = ExitCode.CONFLICT


# -- schedules as cron fields ----------------------------------------------------------------


@dataclass(frozen=True)
class CronTime:
    """The five time fields of one crontab line, and what was lost converting to them."""

    minute: str
    hour: str
    warnings: tuple[str, ...] = ()

    def fields(self) -> str:
        return f"{self.minute} {self.hour} * * *"


def _compact(values: Sequence[int], size: int) -> str:
    """``[9, 10, 11, 17]`` -> ``9-11,17``; every value of ``range(size)`` -> ``*``."""
    ordered = sorted(set(values))
    if ordered == list(range(size)):
        return "*"
    parts: list[str] = []
    start = previous = ordered[0]
    for value in [*ordered[1:], None]:
        if value is not None and value == previous + 1:
            previous = value
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if value is not None:
            start = previous = value
    return ",".join(parts)


def _not_cron(schedule: Schedule, why: str) -> ScheduleError:
    return ScheduleError(
        f"{schedule.agent}: {why}; cron intervals are minutes that divide 60 ({MINUTE_INTERVALS}) "
        f"or hours that divide 24 ({HOUR_INTERVALS}) - or use 'agentctl run'"
    )


def cron_time(schedule: Schedule) -> CronTime:
    """The cron fields that fire at exactly the slots of ``schedule`` (see ``schedule.next_due``).

    Raises :class:`ScheduleError` when the interval or offset is not expressible in cron.
    Active hours are exact for hourly and longer intervals; for shorter ones an hour is kept
    only if all its ticks fall inside the window (a window that starts or ends mid-hour loses
    that partial hour, with a warning).
    """
    every, offset = schedule.every, schedule.offset
    if every % 60:
        raise _not_cron(schedule, f"every {exact_duration(every)} is not a whole number of minutes")
    if offset % 60:
        raise ScheduleError(
            f"{schedule.agent}: offset {exact_duration(offset)} is not a whole number of minutes (cron has minute resolution)"
        )
    every_min, offset_min = every // 60, offset // 60
    if every > DAY:
        raise _not_cron(schedule, f"every {exact_duration(every)} is longer than a day")
    warnings: list[str] = []
    if every_min < 60:
        if 60 % every_min:
            raise _not_cron(schedule, f"every {exact_duration(every)} does not divide an hour")
        minutes = list(range(offset_min, 60, every_min))
        hours = list(range(24))
        if schedule.active is not None:
            inside = [h for h in hours if all(schedule.active.contains(_at(h, m)) for m in minutes)]
            partial = [
                h
                for h in hours
                if h not in inside and any(schedule.active.contains(_at(h, m)) for m in minutes)
            ]
            if partial:
                warnings.append(
                    f"{schedule.agent}: active_hours {schedule.active.text()} is not whole hours; "
                    f"cron skips hour(s) {_compact(partial, 24)}, where only some ticks are inside"
                )
            hours = inside
    else:
        if every_min % 60 or 24 % (every_min // 60):
            raise _not_cron(
                schedule,
                f"every {exact_duration(every)} is not a whole number of hours that divides 24",
            )
        every_h = every_min // 60
        minutes = [offset_min % 60]
        hours = list(range(offset_min // 60, 24, every_h))
        if schedule.active is not None:
            hours = [h for h in hours if schedule.active.contains(_at(h, minutes[0]))]
    if not hours:
        raise ScheduleError(
            f"{schedule.agent}: no tick of {schedule.describe()} falls inside its active hours"
        )
    return CronTime(_compact(minutes, 60), _compact(hours, 24), tuple(warnings))


def _at(hour: int, minute: int) -> datetime:
    return datetime(2000, 1, 1, hour, minute)


# -- lines and the block ---------------------------------------------------------------------


@dataclass(frozen=True)
class CronEntry:
    agent: str
    time: CronTime
    command: str  # shell text, before cron's '%' escaping
    log: Path

    def line(self) -> str:
        return f"{self.time.fields()} {escape_percent(self.command)}"


def escape_percent(command: str) -> str:
    """cron turns an unescaped ``%`` into a newline (stdin); ``\\%`` reaches sh as ``%``."""
    return command.replace("%", "\\%")


def unescape_percent(command: str) -> str:
    return command.replace("\\%", "%")


def _one_line(value: str, what: str) -> str:
    if any(ch in value for ch in "\n\r\0"):
        raise ScheduleError(
            f"{what} contains a line break, which a crontab line cannot hold: {value!r}"
        )
    return value


def heartbeat_command(
    root: Path,
    agent: str,
    python: str,
    log: Path,
    path_env: str | None,
    host_env: str | None = None,
) -> str:
    """The shell text of one cron line: ``cd ROOT && [PATH=...] [AGENTCTL_HOST=...] PYTHON -m
    agentctl -W ROOT heartbeat AGENT >> LOG 2>&1``, every variable part quoted for /bin/sh.
    ``host_env``: this machine's name when it comes from $AGENTCTL_HOST, which cron's
    environment lacks (a name set with 'agentctl host --set' or the hostname needs nothing)."""
    q = shlex.quote
    root_text = _one_line(str(root), "the workspace path")
    parts = [f"cd {q(root_text)} &&"]
    if path_env:
        parts.append(f"PATH={q(_one_line(path_env, 'PATH'))}")
    if host_env:
        parts.append(f"AGENTCTL_HOST={q(_one_line(host_env, 'AGENTCTL_HOST'))}")
    parts += [
        q(_one_line(python, "the python path")),
        "-m agentctl -W",
        q(root_text),
        "heartbeat",
        q(agent),
        ">>",
        q(_one_line(str(log), "the log path")),
        "2>&1",
    ]
    return " ".join(parts)


def markers(root: Path) -> tuple[str, str]:
    text = _one_line(str(root), "the workspace path")
    return BEGIN + text, END + text


def render_block(root: Path, entries: Sequence[CronEntry]) -> str:
    begin, end = markers(root)
    return "\n".join([begin, NOTE, *(entry.line() for entry in entries), end]) + "\n"


def _split(text: str) -> list[str]:
    """Lines with their ``\\n`` (the last one may lack it); ``"".join`` gives ``text`` back."""
    if not text:
        return []
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _blocks(lines: list[str], root: Path) -> list[tuple[int, int]]:
    """(first, last) line indexes of each of our blocks; refuses unbalanced markers."""
    begin, end = markers(root)
    found: list[tuple[int, int]] = []
    start: int | None = None
    for i, line in enumerate(lines):
        bare = line.rstrip("\n").rstrip("\r")
        if bare == begin:
            if start is not None:
                raise _unbalanced(root, "two begin markers in a row")
            start = i
        elif bare == end:
            if start is None:
                raise _unbalanced(root, "an end marker without a begin marker")
            found.append((start, i))
            start = None
    if start is not None:
        raise _unbalanced(root, "a begin marker without an end marker")
    return found


def _unbalanced(root: Path, what: str) -> ConflictError:
    return ConflictError(
        f"the crontab's agentctl block for {root} is damaged ({what})",
        hint="fix the '# BEGIN agentctl' / '# END agentctl' lines with 'crontab -e'",
    )


def replace_block(text: str, root: Path, block: str) -> str:
    """``text`` with this workspace's block replaced by ``block`` in place (extra copies
    removed), or appended at the end when there is none."""
    lines = _split(text)
    spans = _blocks(lines, root)
    if not spans:
        prefix = text if not text or text.endswith("\n") else text + "\n"
        return prefix + block
    out: list[str] = []
    for i, line in enumerate(lines):
        if i == spans[0][0]:
            out.append(block)
        if not any(a <= i <= b for a, b in spans):
            out.append(line)
    return "".join(out)


def remove_block(text: str, root: Path) -> tuple[str, bool]:
    """``text`` without this workspace's block(s); the flag says whether there was one."""
    lines = _split(text)
    spans = _blocks(lines, root)
    kept = [line for i, line in enumerate(lines) if not any(a <= i <= b for a, b in spans)]
    return "".join(kept), bool(spans)


@dataclass
class InstalledLine:
    """A schedule line found in our block (``agent`` is None when it names no heartbeat)."""

    agent: str | None
    schedule: str
    command: str
    line: str


def read_block(text: str, root: Path) -> list[InstalledLine] | None:
    """The schedule lines of this workspace's block, or None when there is no block."""
    lines = _split(text)
    spans = _blocks(lines, root)
    if not spans:
        return None
    found: list[InstalledLine] = []
    for a, b in spans:
        for raw in lines[a + 1 : b]:
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = line.split(None, 5)
            schedule = " ".join(fields[:5])
            command = unescape_percent(fields[5]) if len(fields) == 6 else ""
            found.append(InstalledLine(_agent_of(command), schedule, command, line))
    return found


def block_workspaces(text: str) -> list[str]:
    """Workspace paths named by the begin markers in ``text`` (every workspace's block)."""
    return [line[len(BEGIN) :].rstrip("\r") for line in text.split("\n") if line.startswith(BEGIN)]


def _agent_of(command: str) -> str | None:
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    for i, word in enumerate(words[:-1]):
        if word == "heartbeat" and i >= 2 and words[i - 2] == "-W":
            return words[i + 1]
    return None


# -- the crontab command ---------------------------------------------------------------------


@dataclass
class Crontab:
    """The user's crontab through the ``crontab`` program found on PATH."""

    binary: str = field(default="")

    def __post_init__(self) -> None:
        if not self.binary:
            found = shutil.which("crontab")
            if found is None:
                raise NotFoundError(
                    "the 'crontab' command was not found on PATH",
                    hint="install cron (e.g. 'apt install cron'), or run agents with 'agentctl run'",
                )
            self.binary = found

    def read(self) -> str:
        """The current table; a user without one (``no crontab for USER``) has an empty one."""
        proc = self._run(["-l"], None)
        if proc.returncode != 0:
            message = _decode(proc.stderr).strip()
            if "no crontab" in message.lower():
                return ""
            raise CrontabError(
                f"'crontab -l' failed (exit {proc.returncode}): {_first_line(message)}"
            )
        return _decode(proc.stdout)

    def write(self, text: str) -> None:
        proc = self._run(["-"], text.encode("utf-8", "surrogateescape"))
        if proc.returncode != 0:
            message = _first_line(_decode(proc.stderr).strip() or _decode(proc.stdout).strip())
            raise CrontabError(
                f"'crontab -' refused the new table (exit {proc.returncode}): {message}"
            )

    def _run(self, args: list[str], data: bytes | None) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                [self.binary, *args], input=data, capture_output=True, timeout=TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            raise CrontabError(
                f"'crontab {' '.join(args)}' did not finish within {TIMEOUT:g}s"
            ) from None
        except OSError as exc:
            raise CrontabError(f"cannot run {self.binary}: {exc.strerror or exc}") from None


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else "no message"


def update(crontab: Crontab, change: Callable[[str], str], attempts: int = 3) -> tuple[str, str]:
    """Read, change and write the table; returns (before, after). The table is read again
    just before writing and the change redone if someone else wrote it meanwhile (crontab
    itself has no locking). Nothing is written when the change is a no-op."""
    before = crontab.read()
    for _ in range(attempts):
        after = change(before)
        if after == before:
            return before, after
        latest = crontab.read()
        if latest != before:
            before = latest
            continue
        crontab.write(after)
        return before, after
    raise CrontabError("the crontab kept changing while agentctl was updating it; try again")


# -- logs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogInfo:
    path: Path
    exists: bool
    size: int = 0
    modified: datetime | None = None
    last_line: str | None = None


def log_info(path: Path, tail_bytes: int = 8192, max_chars: int = 300) -> LogInfo:
    """Size, modification time (local) and last non-empty line of a log, reading only its tail."""
    try:
        stat = os.stat(path)
        with open(path, "rb") as handle:
            tail = reading.tail_bytes(handle, tail_bytes)
    except FileNotFoundError:
        return LogInfo(path, False)
    lines = [line.strip() for line in tail.decode("utf-8", "replace").splitlines() if line.strip()]
    last = lines[-1][:max_chars] if lines else None
    return LogInfo(
        path, True, stat.st_size, datetime.fromtimestamp(stat.st_mtime).replace(microsecond=0), last
    )
