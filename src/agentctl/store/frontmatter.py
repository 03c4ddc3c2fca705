"""Markdown files with a YAML frontmatter block: the only module that uses ruamel.yaml.

Two ways in:

* :func:`load_fast` parses with ruamel's C-accelerated safe loader into plain Python data.
  It is what the index uses when a file changed; it never keeps formatting.
* :class:`Document` parses with the round-trip loader so that a record can be edited and
  written back losslessly: comments, key order, quoting and the body survive; an unchanged
  document serialises to exactly the bytes it was read from, and changing one field changes
  one line.

Files look like::

    ---
    id: t-4k7q2m9x3bce
    title: Write the docs
    ---
    body markdown (may itself contain '---' lines)

Anchors and aliases are limited: a file may reuse at most :data:`MAX_SHARED` collections
through aliases, and never one inside itself. Parsing an alias is cheap, but expanding a
"billion laughs" (nine aliases of nine aliases of ...) into plain data is not, and every
record is expanded (copied, JSON-encoded) on its way into the index.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from agentctl.core import clock
from agentctl.errors import ValidationError
from agentctl.store import plain_yaml, yaml_subset
from agentctl.store.plain_yaml import DELIMITER as DELIMITER
from agentctl.store.plain_yaml import check_conflict_markers as check_conflict_markers
from agentctl.store.plain_yaml import split as split

_LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")

_fast = YAML(typ="safe", pure=False)
MAX_SHARED = 16  # collections a file may reuse through YAML aliases
_ALIAS_USE = re.compile(r"(?:^|[\s\[{,:])\*[^\s,\[\]{}]")
_FLOW_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+/-]*")
_FLOW_COLON = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+/:-]*")


def _round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1_000_000  # never fold long titles over several lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


_rt = _round_trip_yaml()


def _yaml_error(exc: YAMLError, path: str, first_line: int) -> ValidationError:
    line = first_line
    problem = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            line = first_line + mark.line
        problem = exc.problem or exc.context or problem
    return ValidationError(f"invalid YAML: {problem}", path, line)


def _alias_line(head: str, first_line: int) -> int:
    for number, line in enumerate(head.splitlines()):
        if _ALIAS_USE.search(line):
            return first_line + number
    return first_line


def check_aliases(data: Any, head: str, path: str, first_line: int) -> None:
    """Refuse data that reuses more than MAX_SHARED collections through aliases, or that
    holds itself (a recursive alias). Linear: each collection is walked once."""
    if "*" not in head:  # no alias can be in use
        return
    seen: set[int] = set()
    on_path: set[int] = set()
    shared = 0
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            on_path.discard(id(node))
            continue
        if not isinstance(node, (dict, list)):
            continue
        key = id(node)
        if key in on_path:
            raise ValidationError(
                "invalid YAML: a recursive alias (a collection inside itself)",
                path,
                _alias_line(head, first_line),
            )
        if key in seen:
            shared += 1
            if shared > MAX_SHARED:
                raise ValidationError(
                    f"invalid YAML: too many aliases (at most {MAX_SHARED} reused collections per file)",
                    path,
                    _alias_line(head, first_line),
                )
            continue
        seen.add(key)
        on_path.add(key)
        stack.append((node, True))
        stack.extend(
            (child, False) for child in (node.values() if isinstance(node, dict) else node)
        )


def _resolve_by_ruamel(value: str) -> str:
    """The tag ruamel's safe loader gives a plain scalar (the reference
    :func:`agentctl.store.plain_yaml.resolve_plain` is tested against)."""
    from ruamel.yaml.nodes import ScalarNode

    return str(_fast.resolver.resolve(ScalarNode, value, (True, False)))


def _timestamp(value: str) -> Any:
    """A timestamp scalar as ruamel's safe constructor builds it (the reference
    :func:`agentctl.store.plain_yaml.timestamp` is tested against)."""
    from ruamel.yaml.constructor import SafeConstructor
    from ruamel.yaml.util import create_timestamp

    match = SafeConstructor.timestamp_regexp.match(value)
    if match is None:
        raise ValueError(value)
    return create_timestamp(**match.groupdict())


def load_fast(text: str, path: str) -> tuple[dict[str, Any], str]:
    """Frontmatter as plain data plus the body. Raises ValidationError with file:line.

    The restricted YAML agentctl writes is read by :mod:`agentctl.store.yaml_subset`
    (several times faster); anything outside it goes through ruamel."""
    head, body, first_line = split(text, path)
    quick = yaml_subset.parse(head, plain_yaml.resolve_plain, plain_yaml.timestamp)
    if quick is not None:
        return quick, body
    return _load_head(head, path, first_line), body


def load_fast_ruamel(text: str, path: str) -> tuple[dict[str, Any], str]:
    """:func:`load_fast` through ruamel alone (the reference the fast path is tested against)."""
    head, body, first_line = split(text, path)
    return _load_head(head, path, first_line), body


def _load_head(head: str, path: str, first_line: int) -> dict[str, Any]:
    try:
        data = _fast.load(head)
    except YAMLError as exc:
        raise _yaml_error(exc, path, first_line) from None
    except ValueError as exc:  # ruamel's constructor: an impossible date (2026-02-30)
        raise ValidationError(f"invalid YAML: {exc}", path, first_line) from None
    check_aliases(data, head, path, first_line)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError("frontmatter must be a YAML mapping", path, first_line)
    return data


def load_yaml_fast(text: str, path: str) -> Any:
    """A plain YAML file (config, agent state) as plain data."""
    check_conflict_markers(text, path)
    try:
        data = _fast.load(text)
    except YAMLError as exc:
        raise _yaml_error(exc, path, 1) from None
    except ValueError as exc:  # ruamel's constructor: an impossible date (2026-02-30)
        raise ValidationError(f"invalid YAML: {exc}", path, 1) from None
    check_aliases(data, text, path, 1)
    return data


def _to_yaml(value: Any) -> Any:
    """Python data to the round-trip node types; lists are written in flow style."""
    if isinstance(value, Mapping):
        node = CommentedMap()
        for key, item in value.items():
            if item is not None:
                node[key] = _to_yaml(item)
        return node
    if isinstance(value, (list, tuple)):
        seq = CommentedSeq([_to_yaml(v) for v in value])
        if all(not isinstance(v, (Mapping, list, tuple)) for v in value):
            seq.fa.set_flow_style()
            for i, item in enumerate(seq):
                # Inside [...] ruamel writes some indicator characters plain ("?x", "a:b",
                # "0?") that read back as a mapping or fail in libyaml's C loader: anything
                # but a plainly safe word is double-quoted. (ruamel itself quotes the words
                # YAML would resolve to other types, such as "no" or "1e3".)
                if isinstance(item, str) and not _FLOW_SAFE.fullmatch(item):
                    seq[i] = DoubleQuotedScalarString(item)
        return seq
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and any(c in value for c in _LINE_BREAKS):
        # Double quotes keep a value with line breaks on one line, escaped. Otherwise the
        # emitter may write them raw inside single quotes (the style a replaced value had),
        # spreading the value over several lines, and NEL then reads back as a space.
        return DoubleQuotedScalarString(value)
    return value


def format_timestamp(value: datetime) -> str:
    """UTC timestamps as ``2026-11-22T01:02:03Z`` (seconds precision)."""
    return clock.iso(value)


def _plain(value: Any) -> Any:
    """Round-trip node types back to plain Python values for comparison."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class Document:
    """A frontmatter document held for lossless editing."""

    def __init__(self, data: CommentedMap, body: str, original: str | None) -> None:
        self._data = data
        self._body = body
        self._original = original
        self._dirty = original is None

    @classmethod
    def parse(cls, text: str, path: str) -> Document:
        head, body, first_line = split(text, path)
        try:
            data = _rt.load(head)
        except YAMLError as exc:
            raise _yaml_error(exc, path, first_line) from None
        check_aliases(data, head, path, first_line)
        if data is None:
            data = CommentedMap()
        if not isinstance(data, CommentedMap):
            raise ValidationError("frontmatter must be a YAML mapping", path, first_line)
        return cls(data, body, text)

    @classmethod
    def new(cls, fields: Mapping[str, Any], body: str) -> Document:
        return cls(_to_yaml(fields), body, None)

    def plain(self) -> dict[str, Any]:
        """The frontmatter as plain Python data (timestamps as ISO strings)."""
        result = _plain(self._data)
        assert isinstance(result, dict)
        return result

    @property
    def body(self) -> str:
        return self._body

    @body.setter
    def body(self, text: str) -> None:
        if text != self._body:
            self._body = text
            self._dirty = True

    def get(self, key: str, default: Any = None) -> Any:
        return _plain(self._data.get(key, default))

    def set(self, key: str, value: Any) -> None:
        """Set one field (None removes it). A no-op when the value is unchanged."""
        if value is None:
            if key in self._data:
                del self._data[key]
                self._dirty = True
            return
        if key in self._data and _plain(self._data[key]) == _plain(_to_yaml(value)):
            return
        self._data[key] = _to_yaml(value)
        self._dirty = True

    def update(self, fields: Mapping[str, Any], order: Iterable[str] = ()) -> None:
        """Set several fields; new keys are placed following ``order`` where possible."""
        order_list = list(order)
        for key, value in fields.items():
            if key not in self._data and value is not None and key in order_list:
                position = self._insert_position(key, order_list)
                self._data.insert(position, key, _to_yaml(value))
                self._dirty = True
            else:
                self.set(key, value)

    def _insert_position(self, key: str, order: list[str]) -> int:
        rank = order.index(key)
        keys = list(self._data.keys())
        position = len(keys)
        for i, existing in enumerate(keys):
            if existing in order and order.index(existing) > rank:
                position = i
                break
        return position

    def dumps(self) -> str:
        """Serialise. Unchanged documents come back byte for byte as they were read."""
        if not self._dirty and self._original is not None:
            return self._original
        buffer = io.StringIO()
        if len(self._data):
            _rt.dump(self._data, buffer)
        return f"{DELIMITER}\n{buffer.getvalue()}{DELIMITER}\n{self._body}"


_PRINTABLE = re.compile("[\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]+")
_STR_TAG = "tag:yaml.org,2002:str"
_WORDS_NOT_STR = frozenset(
    {"true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL"}
)


@functools.lru_cache(maxsize=4096)
def _resolves_to_str(value: str) -> bool:
    """True if ruamel reads ``value`` written plain back as a string (not 1, true, null, a date)."""
    if value[:1].isascii() and value[:1].isalpha():
        return (
            value not in _WORDS_NOT_STR
        )  # only these words resolve (numbers and dates start otherwise)
    from ruamel.yaml.nodes import ScalarNode

    return bool(_rt.resolver.resolve(ScalarNode, value, (True, False)) == _STR_TAG)


def _block_plain(value: str) -> bool:
    """ruamel's emitter rules (``analyze_scalar``) for a plain scalar in block context, for a
    one-line printable string without tabs."""
    if (
        value.startswith(("---", "..."))
        or value[0] in "#,[]{}&*!|>'\"%@`"
        or value[0] == " "
        or value[-1] == " "
    ):
        return False
    if value[0] in "?:-" and (len(value) == 1 or value[1] == " "):
        return False
    if ": " in value or " #" in value or value.endswith(":"):
        return False
    return _resolves_to_str(value)


def _fast_scalar(value: Any) -> str | None:
    """The text ruamel's round-trip emitter writes for a simple mapping value, or None when
    this shortcut does not know (the caller then uses the emitter)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or not value or not _PRINTABLE.fullmatch(value):
        return None
    if _block_plain(value):
        return value
    if "'" in value:
        return None  # double-quoted by the emitter
    return f"'{value}'"


def _flow_item(item: Any) -> str | None:
    """A list item as the emitter writes it in a flow sequence: plain, or double-quoted when
    it holds a colon (``project:x``, ``milestone:v1.2``); None when this shortcut does not know."""
    if not isinstance(item, str):
        return None
    if _FLOW_SAFE.fullmatch(item):
        return item if _resolves_to_str(item) else None
    if ":" in item and _FLOW_COLON.fullmatch(item):
        return f'"{item}"'
    return None


def dump_new(fields: Mapping[str, Any], body: str) -> str:
    """The text of a new record, exactly as ``Document.new(fields, body).dumps()`` writes it,
    several times faster for the plain values bulk creation writes (an import of a thousand
    tasks); anything else goes through the emitter. A test keeps the two identical."""
    lines = [DELIMITER]
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, list):
            items = [text for text in map(_flow_item, value) if text is not None]
            if len(items) != len(value):
                return Document.new(fields, body).dumps()
            lines.append(f"{key}: [{', '.join(items)}]")
            continue
        text = _fast_scalar(value)
        if text is None:
            return Document.new(fields, body).dumps()
        lines.append(f"{key}: {text}")
    if len(lines) == 1:
        return Document.new(fields, body).dumps()
    return "\n".join(lines) + f"\n{DELIMITER}\n{body}"


def dump_yaml(data: Mapping[str, Any]) -> str:
    """A plain YAML file written by the tool (agent state, index-free caches)."""
    buffer = io.StringIO()
    _rt.dump(_to_yaml(data), buffer)
    return buffer.getvalue()


def load_yaml_roundtrip(text: str, path: str) -> CommentedMap:
    """A YAML file (config) held for editing with its comments."""
    check_conflict_markers(text, path)
    try:
        data = _rt.load(text)
    except YAMLError as exc:
        raise _yaml_error(exc, path, 1) from None
    check_aliases(data, text, path, 1)
    if data is None:
        return CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ValidationError("the file must be a YAML mapping", path, 1)
    return data


def _null_as_word(representer: Any, _: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


_rt_file = _round_trip_yaml()
_rt_file.representer.add_representer(type(None), _null_as_word)  # 'key: null', not 'key:'


def dump_yaml_roundtrip(data: CommentedMap) -> str:
    """A file loaded by :func:`load_yaml_roundtrip`, written back: unchanged settings keep
    their bytes and comments (a null is written ``null``, as the config template does)."""
    buffer = io.StringIO()
    _rt_file.dump(data, buffer)
    return buffer.getvalue()


def _flow(value: Any) -> Any:
    """A value set from the command line, in flow style (one line: ``[a, b]``, ``{a: [b]}``)."""
    if isinstance(value, Mapping):
        node = CommentedMap((key, _flow(item)) for key, item in value.items())
        node.fa.set_flow_style()
        return node
    if isinstance(value, list | tuple):
        seq = CommentedSeq(_flow(item) for item in value)
        seq.fa.set_flow_style()
        for i, item in enumerate(seq):  # see _to_yaml: only plainly safe words unquoted
            if isinstance(item, str) and not _FLOW_SAFE.fullmatch(item):
                seq[i] = DoubleQuotedScalarString(item)
        return seq
    if isinstance(value, str) and any(c in value for c in _LINE_BREAKS):
        return DoubleQuotedScalarString(value)
    return value


def set_setting(data: CommentedMap, key: Sequence[str], value: Any, order: Sequence[str]) -> None:
    """Set the value at ``key`` (a path of mapping keys) in a round-trip document: an existing
    line keeps its comment; a missing key is inserted before the first key that follows it in
    ``order`` (dotted keys in the order of the template), a missing section at the end. The
    comment lines that stood before the following key stay before it."""
    node = data
    for depth, part in enumerate(key):
        last = depth == len(key) - 1
        if part in node and (last or isinstance(node[part], CommentedMap)):
            if last:
                node[part] = _flow(value)
            else:
                node = node[part]
            continue
        names = list(node)
        if part in node:  # a section written as something else than a mapping
            position = names.index(part)
            del node[part]
            names.remove(part)
        else:
            siblings = _names_under(order, ".".join(key[:depth])) if last else []
            later = siblings[siblings.index(part) + 1 :] if part in siblings else []
            position = next((names.index(name) for name in later if name in node), len(node))
        trailing = _take_trailing(node, names[position - 1]) if position > 0 else ""
        chain: Any = _flow(value)
        for name in reversed(key[depth + 1 :]):
            chain = CommentedMap([(name, chain)])
        node.insert(position, part, chain)
        if trailing:
            _append_trailing(node, part, trailing)
        return


def _last_line_of(node: CommentedMap, name: Any) -> tuple[CommentedMap, Any] | None:
    """The mapping and key whose line ends ``node[name]`` as written (descending into block
    mappings); None when it ends inside a block sequence."""
    value = node[name]
    if isinstance(value, CommentedMap) and len(value) and not value.fa.flow_style():
        return _last_line_of(value, list(value)[-1])
    if isinstance(value, CommentedSeq) and len(value) and not value.fa.flow_style():
        return None
    return node, name


def _take_trailing(node: CommentedMap, name: Any) -> str:
    """Remove and return the comment and blank lines that follow ``node[name]``'s line."""
    found = _last_line_of(node, name)
    if found is None:
        return ""
    owner, key = found
    tokens = owner.ca.items.get(key)
    if not tokens or len(tokens) < 3 or tokens[2] is None:
        return ""
    text = str(tokens[2].value)
    if text.startswith("#"):
        first, _, rest = text.partition("\n")
        tokens[2].value = first + "\n"
        return rest
    tokens[2] = None
    return text[1:]


def _append_trailing(node: CommentedMap, name: Any, text: str) -> None:
    """Add comment and blank lines after ``node[name]``'s line."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    found = _last_line_of(node, name)
    if found is None:
        return
    owner, key = found
    tokens = owner.ca.items.setdefault(key, [None, None, None, None])
    if tokens[2] is None:
        tokens[2] = CommentToken("\n" + text, CommentMark(0), None)
    else:
        tokens[2].value += text


def _names_under(order: Sequence[str], prefix: str) -> list[str]:
    """The names directly under dotted ``prefix`` ('' = the top level), in order."""
    names: list[str] = []
    start = f"{prefix}." if prefix else ""
    for dotted in order:
        if dotted.startswith(start):
            name = dotted[len(start) :].split(".", 1)[0]
            if name not in names:
                names.append(name)
    return names


def remove_setting(data: CommentedMap, key: Sequence[str]) -> bool:
    """Remove the setting at ``key``; False if the document does not hold it. Its line goes
    with its own end-of-line comment (and a section left empty goes too); the comment lines
    around it, which describe what follows, stay, attached to the line before."""
    nodes: list[CommentedMap] = [data]
    for part in key[:-1]:
        child = nodes[-1].get(part)
        if not isinstance(child, CommentedMap):
            return False
        nodes.append(child)
    if key[-1] not in nodes[-1]:
        return False
    depth = len(key) - 1
    kept = ""
    while True:
        node, name = nodes[depth], key[depth]
        names = list(node)
        position = names.index(name)
        tokens = node.ca.items.pop(name, None)
        del node[name]
        if tokens:
            eol = tokens[2].value if len(tokens) > 2 and tokens[2] is not None else ""
            own = "".join(token.value for token in tokens[1] or [])
            kept = own + (eol.split("\n", 1)[1] if eol.startswith("#") else eol) + kept
        if len(node) or depth == 0:
            break
        depth -= 1
    if not kept:
        return True
    if position > 0:
        _append_trailing(node, names[position - 1], kept)
    elif position + 1 < len(names):
        from ruamel.yaml.error import CommentMark
        from ruamel.yaml.tokens import CommentToken

        items = node.ca.items.setdefault(names[position + 1], [None, None, None, None])
        items[1] = [CommentToken(kept, CommentMark(0), None), *(items[1] or [])]
    return True
