"""The one masking function: secrets never reach a record, a log, git or a terminal.

What counts as a secret:

* the value of every environment variable whose name contains KEY, TOKEN, SECRET, PASSWORD,
  PASSWD, PASSPHRASE or CREDENTIAL (any case), and of every variable named in the workspace
  config's ``secrets.env`` list (registered by :func:`add_names` when the config is loaded);
* values shaped like well-known credentials, even when they are not in agentctl's own
  environment (an agent's CLI may hold keys agentctl never sees): OpenAI/Anthropic ``sk-…``,
  GitHub ``ghp_…``/``github_pat_…``, AWS ``AKIA…``, Slack ``xox?-…``, Google ``AIza…``.

Values shorter than :data:`MIN_SECRET_CHARS` are ignored (``KEYBOARD=us`` must not turn every
"us" into a mask), and so are absolute paths (``SSH_KEY_PATH=/home/me/.ssh/id``: the secret is
the file, not its name). A masked value becomes :data:`MASK`, which is plain text in YAML (also
unquoted), JSON, Markdown and a commit message, so masking a serialized record keeps it valid.

The secret values are gathered once per process (per CLI command), on first use; :func:`reset`
gathers them again (tests that change the environment, :func:`add_names` when a config names
more variables). A credential shape's pattern is compiled the first time a text holds one of
its prefixes (compiling all six costs ~1 ms, a command's output rarely holds any).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from typing import Any

MASK = "(masked)"
MIN_SECRET_CHARS = 8
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL", re.IGNORECASE)
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Well-known credential shapes: (literal prefixes, pattern). A pattern runs only on text that
# holds one of its prefixes (a substring test is far cheaper than a regex scan).
_START = r"(?<![A-Za-z0-9_])"
SHAPES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("sk-",),
        _START + r"sk-[A-Za-z0-9][A-Za-z0-9_-]{19,}",
    ),  # OpenAI (sk-, sk-proj-), Anthropic (sk-ant-)
    (
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        _START + r"gh[pousr]_[A-Za-z0-9]{30,}",
    ),  # GitHub tokens
    (("github_pat_",), _START + r"github_pat_[A-Za-z0-9_]{30,}"),  # GitHub fine-grained tokens
    (("AKIA", "ASIA"), _START + r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Za-z])"),  # AWS access key IDs
    (("xox",), _START + r"xox[abpors]-[A-Za-z0-9-]{10,}"),  # Slack tokens
    (("AIza",), _START + r"AIza[0-9A-Za-z_-]{35}"),  # Google API keys
)

_configured: set[str] = set()
_compiled_state: list[str] | None = None  # the secret values, longest first


def is_secret_name(name: str) -> bool:
    """Whether the environment variable ``name`` holds a secret (by its name or the config)."""
    return bool(SECRET_NAME.search(name)) or name in _configured


def secret_values(environ: dict[str, str] | None = None) -> list[str]:
    """The environment's secret values worth masking, longest first."""
    env = os.environ if environ is None else environ
    values = {
        value
        for name, value in env.items()
        if is_secret_name(name) and len(value) >= MIN_SECRET_CHARS and not value.startswith("/")
    }
    return sorted(values, key=lambda v: (-len(v), v))


def _compiled() -> list[str]:
    global _compiled_state
    if _compiled_state is None:
        _compiled_state = secret_values()
    return _compiled_state


@functools.cache
def _shape(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def reset(names: bool = False) -> None:
    """Forget the compiled state (the environment changed), and with ``names`` the
    configured names too (a new command starts: its config registers them again)."""
    global _compiled_state
    _compiled_state = None
    if names:
        _configured.clear()


def add_names(names: Iterable[str]) -> None:
    """Also treat these environment variables as secrets (the config's ``secrets.env``)."""
    fresh = {name for name in names if ENV_NAME.match(name)} - _configured
    if fresh:
        _configured.update(fresh)
        reset()


def mask(text: str) -> str:
    """``text`` with every secret replaced by :data:`MASK`."""
    if not text:
        return text
    for value in _compiled():  # longest first: a value inside a longer one goes with it
        if value in text:
            text = text.replace(value, MASK)
    for prefixes, pattern in SHAPES:
        for prefix in prefixes:  # a plain loop: any() of a generator costs more than the tests
            if prefix in text:
                text = _shape(pattern).sub(MASK, text)
                break
    return text


def mask_data(value: Any) -> Any:
    """A copy of JSON-like data (dicts, lists, strings) with every string masked, keys too."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {mask(k) if isinstance(k, str) else k: mask_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(v) for v in value]
    return value
