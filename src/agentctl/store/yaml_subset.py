"""A fast reader for the restricted YAML that agentctl itself writes in frontmatter.

:func:`parse` reads a mapping of ``key: scalar`` lines, flow lists of words or simple
double-quoted strings, single- and double-quoted one-line strings, and one level of nested
``key:`` maps indented by two spaces. Anything else (comments, blank lines, tabs, CR, block
sequences, anchors, aliases, tags, escapes, multi-line scalars, floats, odd integers, flow
maps, duplicate keys, non-printable characters ...) makes it return ``None`` and the caller
parses with ruamel, so ruamel's error messages and YAML 1.2 semantics are untouched.

Plain scalars are typed by ruamel's own resolver (passed in as ``resolve``), and timestamps
built by ruamel's own ``create_timestamp``; only the forms whose construction is trivial are
accepted (``str``, ``null``, ``true``/``false``, decimal integers without a leading zero or
sign, and dates or ``YYYY-MM-DDTHH:MM:SS[.f]Z`` timestamps). Property tests
(``tests/test_yaml_subset.py``) check that whenever this returns data, ruamel's safe loader
returns the same data with the same types.

This module imports no third-party library: the caller (:mod:`agentctl.store.frontmatter`)
supplies the resolver and timestamp constructor.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Printable characters YAML (and libyaml) accept, minus the line breaks NEL, LS, PS, the BOM,
# NBSP (kept out to stay well away from whitespace rules), tab and CR: "\n", U+0020-U+007E,
# U+00A1-U+2027, U+202A-U+D7FF, U+E000-U+FEFE, U+FF00-U+FFFD and U+10000-U+10FFFF, spelled
# as the complement (a class reaching U+10FFFF costs ~2.5 ms to compile, this one 0.3 ms;
# tests/test_startup.py checks that both hold the same characters).
_PRINTABLE_HEAD = re.compile(
    "[^\x00-\x09\x0b-\x1f\x7f-\xa0\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]*"
)
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SINGLE = re.compile(r"'([^']*(?:''[^']*)*)'")  # (?:[^']|'')* unrolled: no backtracking
_DOUBLE = re.compile(r'"([^"\\]*)"')
_FLOW_WORD = r"[A-Za-z0-9_][A-Za-z0-9_.+/-]*"
_FLOW_ITEM = rf'(?:{_FLOW_WORD}|"[^"\\]*")'
_FLOW_LIST = re.compile(rf"\[(?:{_FLOW_ITEM}(?:, {_FLOW_ITEM})*)?\]")
_FLOW_ITEMS = re.compile(rf'({_FLOW_WORD})|"([^"\\]*)"')
# First character of a plain scalar accepted here: no indicator, no sign, no dot.
_PLAIN_START = re.compile(r"[A-Za-z0-9_(/$~]|[^\x00-\x7f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_STAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z")

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Fallback(Exception):
    """Outside the subset: the caller parses with ruamel."""


_OPEN = object()  # the value of a "key:" line that opens a nested map
# Parsed lines, ``line -> (key, value)``: most lines of a workspace's records repeat
# (``status: done``, ``labels: [backend]``, ``created_by: alice``), and a line's meaning does
# not depend on where it stands (duplicates and nesting are checked by :func:`parse`). Kept
# for one (resolve, timestamp) pair, emptied when full; lists are copied on the way out.
_LINES: dict[str, tuple[str, Any]] = {}
_LINES_MAX = 8192
_lines_for: tuple[Callable[[str], str], Callable[[str], Any]] | None = None


def parse(
    head: str, resolve: Callable[[str], str], timestamp: Callable[[str], Any]
) -> dict[str, Any] | None:
    """The mapping ``head`` holds, or ``None`` when it is outside the subset.

    ``resolve(text)`` is the YAML tag ruamel gives the plain scalar ``text``;
    ``timestamp(text)`` is ruamel's value for a timestamp scalar."""
    global _lines_for
    if not head or "\t" in head or "\r" in head or not _PRINTABLE_HEAD.fullmatch(head):
        return None
    lines = head.split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines:
        return None
    if _lines_for is None or _lines_for[0] is not resolve or _lines_for[1] is not timestamp:
        _LINES.clear()
        _lines_for = (resolve, timestamp)
    known = _LINES
    result: dict[str, Any] = {}
    nested: dict[str, Any] | None = None
    try:
        for line in lines:
            inner = line.startswith("  ")
            if inner:
                if nested is None or line[2:3] in (" ", ""):
                    return None  # a blank or deeper line: left to ruamel
                line = line[2:]
            elif nested is not None:
                if not nested:
                    return None  # "key:" then another key: a null; left to ruamel
                nested = None
            entry = known.get(line)
            if entry is None:
                entry = _entry(line, resolve, timestamp)
                if len(known) >= _LINES_MAX:
                    known.clear()
                known[line] = entry
            key, value = entry
            target = result if nested is None else nested
            if key in target:
                return None
            if value is _OPEN:
                if inner:
                    return None
                nested = target[key] = {}
            elif type(value) is list:
                target[key] = value.copy()
            else:
                target[key] = value
        if nested is not None and not nested:
            return None
    except _Fallback:
        return None
    return result


def _entry(
    line: str, resolve: Callable[[str], str], timestamp: Callable[[str], Any]
) -> tuple[str, Any]:
    """The key and value of one ``key: value`` line (``_OPEN`` for ``key:``)."""
    colon = line.find(":")
    if colon <= 0:
        raise _Fallback
    key = line[:colon]
    if not _KEY.fullmatch(key) or resolve(key) != _STR:
        raise _Fallback
    rest = line[colon + 1 :]
    if not rest:
        return key, _OPEN
    if rest[0] != " ":
        raise _Fallback
    return key, _value(rest[1:], resolve, timestamp)


def _value(text: str, resolve: Callable[[str], str], timestamp: Callable[[str], Any]) -> Any:
    if not text or text[0] == " " or text[-1] == " ":
        raise _Fallback
    first = text[0]
    if first == "'":
        match = _SINGLE.fullmatch(text)
        if match is None:
            raise _Fallback
        return match.group(1).replace("''", "'")
    if first == '"':
        match = _DOUBLE.fullmatch(text)
        if match is None:
            raise _Fallback
        return match.group(1)
    if first == "[":
        if _FLOW_LIST.fullmatch(text) is None:
            raise _Fallback
        inner = text[1:-1]
        if '"' not in inner:  # words only, and a word holds no ", "
            words = inner.split(", ") if inner else []
            for word in words:
                if resolve(word) != _STR:
                    raise _Fallback
            return words
        items: list[Any] = []
        for word, quoted in _FLOW_ITEMS.findall(inner):
            if word:
                if resolve(word) != _STR:
                    raise _Fallback
                items.append(word)
            else:
                items.append(quoted)
        return items
    if not _PLAIN_START.match(first) or " #" in text or ": " in text or text[-1] == ":":
        raise _Fallback
    tag = resolve(text)
    if tag == _STR:
        return text
    if tag == _NULL and text in ("~", "null", "Null", "NULL"):
        return None
    if tag == _BOOL and text in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return text[0] in "tT"
    if tag == _INT and _DECIMAL.fullmatch(text):
        return int(text)
    if tag == _TIMESTAMP and (_DATE.fullmatch(text) or _STAMP.fullmatch(text)):
        try:
            return timestamp(text)
        except ValueError:  # 2026-13-40: ruamel's error
            raise _Fallback from None
    raise _Fallback
