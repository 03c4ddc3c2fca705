"""This machine's name, the ``host`` agents name when they run here (``agentctl host``).

In order: ``$AGENTCTL_HOST``; else the name set once per clone with ``agentctl host --set``
(``.agentctl/local/host``, machine-local, never committed); else the hostname made a valid
name (core/ownership.py). Each source is checked: a bad value is an error naming it.
"""

from __future__ import annotations

import os
import socket
from typing import Literal

from agentctl import paths
from agentctl.core.ownership import normalise_host
from agentctl.errors import UsageError, ValidationError

ENV_HOST = "AGENTCTL_HOST"
HostSource = Literal["env", "file", "hostname"]


def machine_host(layout: paths.Layout) -> tuple[str, HostSource]:
    """This machine's name and where it came from."""
    value = os.environ.get(ENV_HOST)
    if value:
        if not paths.NAME_RE.match(value):
            raise UsageError(
                f"${ENV_HOST}: invalid host name {value!r}: use 1-64 lowercase letters, "
                "digits and '-', starting with a letter or digit"
            )
        return value, "env"
    path = layout.inside(layout.host_file)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return normalise_host(socket.gethostname()), "hostname"
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read the host name: {exc}", layout.relative(path)) from None
    if not paths.NAME_RE.match(text):
        raise ValidationError(
            f"invalid host name {text[:80]!r} (fix it with 'agentctl host --set NAME')",
            layout.relative(path),
        )
    return text, "file"


def set_machine_host(layout: paths.Layout, name: str | None) -> None:
    """Name this clone's machine (``None``: forget the name, back to the hostname)."""
    from agentctl.store import atomic

    path = layout.inside(layout.host_file)
    if name is None:
        if path.exists():
            atomic.delete(path)
        return
    paths.validate_name(name, "host name")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, name + "\n")
