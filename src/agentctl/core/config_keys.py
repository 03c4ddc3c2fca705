"""The settings of ``.agentctl/config.yaml`` by dotted key (``heartbeat.sync``), for
``agentctl config get|list|set|unset``.

A key names a setting of the config model: a section's field (``llm.model``) or a top-level
one (``sandbox``). Values that are mappings of the user's own keys (``hooks``,
``dispatch.labels``, ``workflow.transitions``) are one setting each, set whole. The keys are
read from :class:`agentctl.core.records.ConfigRecord` (generated from the pydantic model), so
a new setting is a key here without another edit, and nothing here imports pydantic.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping
from typing import Any, is_typeddict

_PLAIN = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./:@+-]*")
# Plain words YAML reads as something else than a string: numbers, dates, times.
_NOT_STRING = re.compile(
    r"[-+]?(\.?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?|\.(inf|Inf|INF|nan|NaN|NAN))"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*|0[xXoObB][0-9a-fA-F_]+|[0-9:]+"
)
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


@functools.cache
def leaf_keys() -> tuple[str, ...]:
    """Every setting's dotted key, in the model's (and the template's) order."""
    from typing import get_type_hints

    from agentctl.core import records

    def walk(record: Any, prefix: str) -> list[str]:
        keys: list[str] = []
        for name, hint in get_type_hints(record).items():
            if is_typeddict(hint):
                keys.extend(walk(hint, f"{prefix}{name}."))
            else:
                keys.append(prefix + name)
        return keys

    return tuple(walk(records.ConfigRecord, ""))


def sections() -> set[str]:
    """The keys that are sections (``heartbeat``), not settings."""
    return {key.rsplit(".", 1)[0] for key in leaf_keys() if "." in key}


def suggest(key: str) -> list[str]:
    """Known keys close to ``key`` (a typo, or a setting named without its section)."""
    known = leaf_keys()
    last = key.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    same_name = [k for k in known if k.rsplit(".", 1)[-1] == last and k not in close]
    return (close + same_name)[:3]


def lookup(config: Mapping[str, Any], key: str) -> Any:
    """The value at dotted ``key`` (a known key: every section is present in a loaded config)."""
    value: Any = config
    for part in key.split("."):
        value = value[part]
    return value


def format_value(value: Any) -> str:
    """A value as YAML flow text, as it would be typed on the command line: ``true``,
    ``null``, ``2h``, ``[a, b]``, ``{ui: [frontend]}``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if (
            _PLAIN.fullmatch(value)
            and value.lower() not in _YAML_WORDS
            and not _NOT_STRING.fullmatch(value)
        ):
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return (
            "{" + ", ".join(f"{format_value(k)}: {format_value(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False, default=str)
