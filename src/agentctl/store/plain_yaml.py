"""A record's frontmatter read without ruamel when it is in agentctl's own form.

:func:`load_fields` is :func:`agentctl.store.frontmatter.load_fast` for a command that
reads one or a few record files (``task show``): it parses the restricted YAML agentctl
writes with :mod:`agentctl.store.yaml_subset`, typing plain scalars as ruamel's safe loader
does (:func:`resolve_plain`: YAML 1.2's implicit resolvers, the table ruamel's
``VersionedResolver`` uses for 1.2, copied) and building timestamps as ruamel's
``create_timestamp`` does (:func:`timestamp`). Anything outside the subset goes through
:mod:`agentctl.store.frontmatter` (ruamel) unchanged, errors included, so importing ruamel
(~20 ms) is left to the files that need it. ``tests/test_plain_yaml.py`` checks the table
against ruamel's own, and the results against ruamel's loader, value for value and type for
type.

:func:`split` and :func:`check_conflict_markers` live here too (the frontmatter module
imports them), since reading a file starts with them.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from agentctl.errors import ValidationError
from agentctl.store import yaml_subset

DELIMITER = "---"
CONFLICT_MARKERS = ("<<<<<<< ", "=======", ">>>>>>> ")

_STR = "tag:yaml.org,2002:str"

# YAML 1.2's implicit resolvers as ruamel 0.18-0.19 defines them (resolver.py,
# ``implicit_resolvers`` for version (1, 2)), in ruamel's order: (tag, pattern, first
# characters, whether the pattern is verbose). ``tests/test_plain_yaml.py`` compares this
# table with ruamel's.
IMPLICIT_RESOLVERS: tuple[tuple[str, str, str, bool], ...] = (
    (
        "tag:yaml.org,2002:bool",
        """^(?:true|True|TRUE|false|False|FALSE)$""",
        "tTfF",
        True,
    ),
    (
        "tag:yaml.org,2002:float",
        """^(?:
         [-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\\.(?:inf|Inf|INF)
        |\\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
        True,
    ),
    (
        "tag:yaml.org,2002:int",
        """^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        "-+0123456789",
        True,
    ),
    ("tag:yaml.org,2002:merge", "^(?:<<)$", "<", False),
    (
        "tag:yaml.org,2002:null",
        """^(?: ~
        |null|Null|NULL
        | )$""",
        "~nN",  # and the empty scalar
        True,
    ),
    (
        "tag:yaml.org,2002:timestamp",
        """^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \\t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\\.[0-9]*)?
        (?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
        True,
    ),
    ("tag:yaml.org,2002:value", "^(?:=)$", "=", False),
    ("tag:yaml.org,2002:yaml", "^(?:!|&|\\*)$", "!&*", False),
)
_NULL_TAG = "tag:yaml.org,2002:null"
_INT_TAG = "tag:yaml.org,2002:int"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
# The digit-led scalars every task file holds, whose tags the table gives without compiling
# it: decimal digits (no float form lacks '.' or 'e': int) and the dates and timestamps
# agentctl writes (neither float nor int allows their '-': timestamp).
_COMMON = re.compile(
    r"[0-9]+|[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z)?"
)


@functools.cache
def _resolvers(first: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The resolvers tried for scalars starting with ``first`` ('' for the empty scalar),
    compiled on first use (a task file needs those of a few characters)."""
    return tuple(
        (tag, re.compile(pattern, re.VERBOSE if verbose else 0))
        for tag, pattern, firsts, verbose in IMPLICIT_RESOLVERS
        if (first in firsts if first else tag == _NULL_TAG)
    )


@functools.lru_cache(maxsize=8192)
def resolve_plain(value: str) -> str:
    """The tag ruamel's safe loader gives the plain scalar ``value`` (YAML 1.2)."""
    if _COMMON.fullmatch(value):
        return _INT_TAG if value.isdigit() else _TIMESTAMP_TAG
    for tag, pattern in _resolvers(value[:1]):
        if pattern.match(value):
            return tag
    return _STR


def timestamp(value: str) -> date | datetime:
    """ruamel's value for the timestamps :mod:`yaml_subset` accepts: ``YYYY-MM-DD`` (a date)
    and ``YYYY-MM-DDTHH:MM:SS[.f]Z`` (a datetime in a UTC zone named ``Z``). More than six
    fractional digits (which ruamel rounds) raise ValueError: ruamel reads those."""
    if len(value) == 10:
        return date(int(value[:4]), int(value[5:7]), int(value[8:10]))
    if value[-1] != "Z" or value[10] != "T":
        raise ValueError(value)
    fraction = value[19:-1]
    if fraction and (fraction[0] != "." or len(fraction) > 7):
        raise ValueError(value)
    micro = int(fraction[1:].ljust(6, "0")) if fraction else 0
    return datetime(
        int(value[:4]),
        int(value[5:7]),
        int(value[8:10]),
        int(value[11:13]),
        int(value[14:16]),
        int(value[17:19]),
        micro,
        timezone(timedelta(hours=0), name="Z"),
    )


def load_fields(text: str, path: str) -> tuple[dict[str, Any], str]:
    """Frontmatter as plain data plus the body, exactly as
    :func:`agentctl.store.frontmatter.load_fast` returns them; ruamel is imported only for a
    file outside agentctl's own form. Raises ValidationError with file:line."""
    head, body, _ = split(text, path)
    quick = yaml_subset.parse(head, resolve_plain, timestamp)
    if quick is not None:
        return quick, body
    from agentctl.store.frontmatter import load_fast

    return load_fast(text, path)


def split(text: str, path: str) -> tuple[str, str, int]:
    """Split a file into (yaml text, body, 1-based line of the first yaml line)."""
    check_conflict_markers(text, path)
    text = text.removeprefix("\ufeff")
    first_break = text.find("\n")
    if first_break < 0 or text[:first_break].rstrip("\r") != DELIMITER:
        raise ValidationError("missing frontmatter: the file must start with a '---' line", path, 1)
    start = first_break + 1
    # The closing line is the first line that is '---' (and CRs): look only where a line
    # starts with '---', not at every line.
    found = first_break
    while True:
        found = text.find("\n---", found)
        if found < 0:
            raise ValidationError("unterminated frontmatter: no closing '---' line", path, 1)
        pos = found + 1
        end = text.find("\n", pos)
        line = text[pos:] if end < 0 else text[pos:end]
        if line.rstrip("\r") == DELIMITER:
            body = "" if end < 0 else text[end + 1 :]
            return text[start:pos], body, 2
        found = pos


def check_conflict_markers(text: str, path: str) -> None:
    """Refuse files that still hold git merge conflict markers, naming the line."""
    if "<<<<<<< " not in text and ">>>>>>> " not in text:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith((CONFLICT_MARKERS[0], CONFLICT_MARKERS[2])):
            raise ValidationError(
                "unresolved git merge conflict marker",
                path,
                number,
                hint="resolve the conflict and commit",
            )
