"""Lenient, safe reading of a model's answer into actions, and rejections in plain words.

Small and local models answer in many near-miss shapes. Before anything is rejected:

- the JSON is found where it is: the whole text, a fenced block, or the first JSON value in
  prose (at most :data:`MAX_OPENERS` starting points are tried, so hostile text stays cheap);
- lines a CLI wrapped inside a JSON string (a raw line break, which JSON forbids) are joined
  with one space: a word-wrap only ever replaced a space, and a break that split a word leaves
  an ID or name that fails its pattern, which is rejected rather than guessed;
- ``{"actions": [...]}``, a bare list and a single action object are all action lists;
- a task reference written as a number N, or as a unique prefix of a task ID, names a task
  listed in the prompt (N is that list's numbering, shown in the prompt); it is never turned
  into a task the prompt did not list.

A list of bare action names (``["create_task", "assign"]``) is not an answer and is refused
with that explanation; everything else that does not validate is rejected item by item with
the action's position, the field and the expected form in plain words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

MAX_OPENERS = 64  # starting points tried for a JSON value inside prose
EXAMPLE_TASK = "t-4k7q2m9x3bce"
TASK_FIELDS = ("task", "parent")
_FENCED = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\r?\n(.*?)\r?\n?[ \t]*```", re.DOTALL)
_SAFE = re.compile(r"[^A-Za-z0-9 _.:-]")
_ANSWER_KEYS = {"actions", "thoughts", "summary"}


class AnswerError(ValueError):
    """The answer as a whole is unusable (not JSON, or not an action list)."""


def join_wrapped(text: str) -> str:
    """``text`` with each raw line break inside a JSON string (a CLI's wrapping: JSON forbids
    them) undone: removed inside an object key (keys hold no spaces), else replaced by one
    space, or just removed where a blank already separates the words. Outside strings nothing
    changes."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char != '"':
            out.append(char)
            i += 1
            continue
        pieces: list[str] = []  # the string's characters; None-free, breaks as "\n" markers
        breaks = False
        j = i + 1
        escaped = False
        while j < n:
            c = text[j]
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                break
            elif c in "\r\n":
                breaks = True
            pieces.append(c)
            j += 1
        body = "".join(pieces)
        if breaks:
            rest = text[j + 1 : j + 40].lstrip()
            if rest.startswith(":"):  # an object key
                body = re.sub(r"[ \t]*[\r\n]+[ \t]*", "", body)
            else:
                body = re.sub(r"(?<=[^ \t\r\n])[\r\n]+(?=[^ \t\r\n])", " ", body)
                body = re.sub(r"[ \t]*[\r\n]+[ \t]*", " ", body)
        out.append('"' + body + ('"' if j < n else ""))
        i = j + 1
    return "".join(out)


def _looks_like_answer(value: Any) -> bool:
    return isinstance(value, list) or (
        isinstance(value, dict) and ("actions" in value or "type" in value)
    )


def _decoded(text: str) -> list[Any]:
    """Every JSON value found in ``text``, best candidates first."""
    decoder = json.JSONDecoder()
    found: list[Any] = []
    stripped = text.strip().lstrip("\ufeff")
    try:
        found.append(json.loads(stripped))
    except (json.JSONDecodeError, RecursionError):
        pass
    for match in _FENCED.finditer(text):
        try:
            found.append(json.loads(match.group(1)))
        except (json.JSONDecodeError, RecursionError):
            continue
    starts = [m.start() for m in re.finditer(r"[\[{]", text)][:MAX_OPENERS]
    for start in starts:
        try:
            found.append(decoder.raw_decode(text, start)[0])
        except (json.JSONDecodeError, RecursionError):
            continue
    return found


def extract_json(text: str, wanted: Callable[[Any], bool] = _looks_like_answer) -> Any:
    """The JSON value in an answer: the whole text, a fenced block, or the first JSON value in
    the prose around it (one that is ``wanted`` first: by default one that looks like an action
    list); lines wrapped inside JSON strings are joined. Raises AnswerError when there is none."""
    found = _decoded(text)
    if not any(wanted(v) for v in found):
        joined = join_wrapped(text)
        if joined != text:
            found += _decoded(joined)
    for value in found:
        if wanted(value):
            return value
    if found:
        return found[0]
    raise AnswerError("the answer is not JSON")


def action_items(value: Any, action_types: Sequence[str]) -> list[Any]:
    """The list of items of an answer value; AnswerError when it is not an action list."""
    if isinstance(value, dict) and set(value) <= _ANSWER_KEYS and "actions" in value:
        items = value["actions"]
    elif isinstance(value, dict) and "type" in value:
        items = [value]
    else:
        items = value
    if not isinstance(items, list):
        raise AnswerError(
            'the answer must be one JSON object {"actions": [...]} holding a list of action objects'
        )
    names = [i for i in items if isinstance(i, str)]
    if items and len(names) == len(items) and any(n in action_types for n in names):
        listed = ", ".join(dict.fromkeys(n for n in names if n in action_types))
        raise AnswerError(
            f"the answer lists action names ({listed}) instead of actions: each action is an "
            'object with its fields, like {"type": "comment", "task": "<a task ID>", "text": "..."}'
        )
    return items


def resolve_task(value: Any, tasks: Sequence[str]) -> Any:
    """A task reference as written, or the listed task it unambiguously names: number N is the
    N-th task listed in the prompt; a unique prefix (with or without ``t-``) of a listed ID is
    that ID. Anything else is returned unchanged (and validated as written)."""
    if not tasks:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return tasks[value - 1] if 1 <= value <= len(tasks) else value
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if text.isdigit() and len(text) <= 3:
        number = int(text)
        return tasks[number - 1] if 1 <= number <= len(tasks) else value
    body = text.removeprefix("t-")
    if len(body) < 4 or not re.fullmatch(r"[0-9a-z]+", body):
        return value
    matches = [t for t in tasks if t.removeprefix("t-").startswith(body)]
    return matches[0] if len(matches) == 1 else value


def normalise_item(item: Any, tasks: Sequence[str]) -> Any:
    """``item`` with its task references resolved against the listed tasks."""
    if not isinstance(item, dict) or not tasks:
        return item
    fixed = dict(item)
    for key in TASK_FIELDS:
        if key in fixed:
            fixed[key] = resolve_task(fixed[key], tasks)
    if isinstance(fixed.get("depends_on"), list):
        fixed["depends_on"] = [resolve_task(v, tasks) for v in fixed["depends_on"]]
    return fixed


# -- rejections in plain words ----------------------------------------------------------------


def shown(value: Any) -> str:
    """A short, harmless rendering of an untrusted value (no mentions, no control chars)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return _SAFE.sub("?", str(value))[:24]
    if isinstance(value, str):
        text = _SAFE.sub("?", value[:24]) + ("…" if len(value) > 24 else "")
        return f"'{text}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a value of another kind"


def _expected(field: str, example_task: str) -> str:
    forms = {
        "task": f"a task ID like {example_task}",
        "parent": f"a task ID like {example_task}",
        "depends_on": f'a list of task IDs like ["{example_task}"]',
        "agent": "an agent name like dev-1 (lowercase letters, digits, '-')",
        "assignee": "an agent name like dev-1 (lowercase letters, digits, '-')",
        "status": "a status name like in_progress",
        "priority": "a whole number from 0 (highest) to 3",
        "labels": 'a list of lowercase labels like ["backend"]',
        "criteria": "a list of one-line texts",
        "limit": "a whole number from 1 to 100",
        "long_term": "true or false",
        "title": "one line of text",
        "note": "one line of text",
    }
    return forms.get(field, "text")


def plain_error(error: Any, kind: str, fields: Sequence[str], example_task: str) -> str:
    """One pydantic error of a ``kind`` action in plain words (without the action index)."""
    path = list(error.get("loc", ()))[1:]  # [0] is the type tag
    loc = [p for p in path if isinstance(p, str)]
    field = _SAFE.sub("?", loc[0][:32]) if loc else ""
    expected = _expected(field, example_task)
    if len(loc) > 1:  # a field of an object in a list: 'subtasks' item 2 'estimate'
        steps = [f"item {p + 1}" if isinstance(p, int) else f"'{_SAFE.sub('?', str(p)[:32])}" for p in path[1:]]  # fmt: skip
        field = f"{field}' {' '.join(steps)}".removesuffix("'")  # quoted again around it below
        expected = _expected(loc[-1], example_task)
    kind_ = error.get("type", "")
    ctx = error.get("ctx") or {}
    got = shown(error.get("input"))
    if kind_ == "missing":
        return f"'{field}' is missing: it must be {expected}"
    if kind_ == "extra_forbidden" and len(loc) > 1:
        return f"'{field}' is not a known field"
    if kind_ == "extra_forbidden":
        return f"'{field}' is not a field of a {kind} action (its fields: {', '.join(fields)})"
    if kind_ == "literal_error":
        return f"'{field}' must be one of {ctx.get('expected', '?')}, got {got}"
    if kind_ in ("string_too_long", "too_long"):
        limit = ctx.get("max_length")
        unit = "characters" if kind_ == "string_too_long" else "items"
        return f"'{field}' is too long (at most {limit} {unit})"
    if kind_ in ("string_too_short", "too_short"):
        return f"'{field}' must not be empty"
    if kind_ == "value_error":
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        return f"'{field}': {' '.join(message.split())}"
    return f"'{field}' must be {expected}, got {got}"


def item_reason(
    position: int,
    item: Any,
    action_types: Sequence[str],
    fields_of: Mapping[str, Sequence[str]],
    exc: ValidationError | None,
    example_task: str,
) -> str:
    """Why item ``position`` (counted from 1) is rejected, in plain words."""
    where = f"action {position}"
    if not isinstance(item, dict):
        if isinstance(item, str) and item in action_types:
            return (
                f"{where} is just the name '{item}', not an action object with its fields, like "
                '{"type": "noop", "reason": "..."}'
            )
        return f'{where} is {shown(item)}, not an action object like {{"type": "noop", "reason": "..."}}'
    kind = item.get("type")
    if "type" not in item:
        return f"{where} has no 'type'; the actions are: {', '.join(action_types)}"
    if kind not in action_types:  # never echo it: it is untrusted text
        return f"{where}: unknown action type; the actions are: {', '.join(action_types)}"
    if exc is None:
        return f"{where} ({kind}) is not valid"
    errors = exc.errors()
    words = [plain_error(e, str(kind), fields_of.get(str(kind), ()), example_task) for e in errors]
    more = f" (and {len(words) - 2} more problems)" if len(words) > 2 else ""
    return f"{where} ({kind}): " + "; ".join(words[:2]) + more
