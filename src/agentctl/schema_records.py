"""Generates ``core/records.py``, the TypedDicts of the records as the code passes them around,
from the pydantic models' JSON Schemas (the one definition of each record).

A record travels as the plain JSON data the files and the index hold (timestamps and dates
as ISO strings), so each model becomes a ``TypedDict`` of that data: no runtime cost, no
change to any format. Which keys a reader can count on depends on where the record comes
from, so each record names its form in :data:`RECORDS`:

* ``complete``: every field is present (``None`` where unset): the index stores one column
  per field (tasks, messages, documents, events) or the reader fills the defaults (the config
  is the model's dump);
* ``as_written``: the fields as in the file, defaults left out (agents and agent states, whose
  index rows are the file's data).

Run ``python -m agentctl.schema --validators`` (it writes this and core/record_checks.py);
``tests/test_docs.py`` keeps the committed module equal to the output.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any, Literal, get_args

# record model -> its form (see above); nested models take the form of the record using them
RECORDS: dict[str, Literal["complete", "as_written"]] = {
    "Task": "complete",
    "Agent": "as_written",
    "AgentState": "as_written",
    "Message": "complete",
    "Document": "complete",
    "Event": "complete",
    "InboxEntry": "as_written",
    "Config": "complete",
    "Spec": "as_written",
    "SpecExpansion": "as_written",
    "SpecQuestions": "as_written",
    "SpecTaskPlan": "as_written",
}
TARGET = Path(__file__).parent / "core" / "records.py"

# fields whose type is narrower than their JSON Schema says: (model, field) -> type
OVERRIDES = {
    ("Event", "type"): "EventType",  # a pattern in the schema; core/events.py lists the types
    ("Event", "data"): "Payload",  # an object in the schema; one TypedDict per event type
}
# choices named in core/fields.py, emitted under the same names
CHOICES = ("Level", "RuntimeKind", "Sandbox", "AgentStatus", "MessageKind", "DocType", "Permission")

HEADER = '''"""Typed records, GENERATED from the pydantic models by
``python -m agentctl.schema --validators`` (agentctl/schema_records.py): do not edit.

One ``TypedDict`` per record (and per record nested in one), describing the plain JSON data
the code passes around: timestamps and dates are ISO strings. ``complete`` records have every
key (``None`` where unset); the others (agents, agent states) have the keys of the file.
Typing only: modules on the read and write paths import it under ``TYPE_CHECKING``. No
``from __future__ import annotations``, so ``NotRequired`` is seen at run time (tests read
``__required_keys__``).
"""

from typing import {typing}

from agentctl.core.events import EventType, Payload
'''


def _wrap_literal(name: str, values: tuple[str, ...]) -> list[str]:
    """``name = Literal[...]`` wrapped the way the formatter wraps it (line length 100)."""
    items = ", ".join(json.dumps(v) for v in values)
    line = f"{name} = Literal[{items}]"
    if len(line) <= 100:
        return [line]
    if len(items) + 4 <= 100:
        return [f"{name} = Literal[", f"    {items}", "]"]
    return [f"{name} = Literal[", *(f"    {json.dumps(v)}," for v in values), "]"]


class _Generator:
    def __init__(self) -> None:
        from agentctl.core import fields, models

        self.models = models
        self.choices = {tuple(get_args(getattr(fields, n))): n for n in CHOICES}
        self.used_choices: set[str] = set()
        self.defs: dict[str, Any] = {}
        self.forms: dict[str, str] = {}  # model name -> form
        self.classes: dict[str, list[str]] = {}  # model name -> lines
        self.order: list[str] = []  # model names, each after the models its fields use

    def model(self, name: str, schema: dict[str, Any], form: str) -> str:
        cls = f"{name}Record"
        if name in self.forms:
            if self.forms[name] != form:
                raise NotImplementedError(f"{name} is nested in records of both forms")
            return cls
        self.forms[name] = form
        properties: dict[str, Any] = schema["properties"]
        required = set(schema.get("required", []))
        lines = [f"class {cls}(TypedDict):"]
        description = (getattr(self.models, name).__doc__ or "").strip().split("\n\n")[0]
        if description:
            text = textwrap.wrap(
                '"""' + " ".join(description.split()) + '"""', 96, break_on_hyphens=False
            )
            lines += [f"    {line}" for line in text] + [""]
        for key, prop in properties.items():
            kind = OVERRIDES.get((name, key)) or self.type_of(prop, form)
            if form == "as_written" and key not in required:
                kind = f"NotRequired[{kind}]"
            lines.append(f"    {key}: {kind}")
        self.classes[name] = lines
        self.order.append(name)  # after its nested models, which type_of generated first
        return cls

    def type_of(self, schema: dict[str, Any], form: str) -> str:
        if "anyOf" in schema:
            others = [alt for alt in schema["anyOf"] if alt != {"type": "null"}]
            if len(others) != 1 or len(others) == len(schema["anyOf"]):
                raise NotImplementedError(f"unsupported union {schema!r}")
            return f"{self.type_of(others[0], form)} | None"
        if "$ref" in schema:
            target = schema["$ref"].rsplit("/", 1)[1]
            return self.model(target, self.defs[target], form)
        if "enum" in schema or "const" in schema:
            values = tuple(schema["enum"]) if "enum" in schema else (schema["const"],)
            if values in self.choices:
                self.used_choices.add(self.choices[values])
                return self.choices[values]
            return "Literal[" + ", ".join(json.dumps(v) for v in values) + "]"
        kind = schema.get("type")
        simple = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
        if kind in simple:
            return simple[kind]
        if kind == "array":
            return f"list[{self.type_of(schema['items'], form)}]"
        if kind == "object":
            patterns = list(schema.get("patternProperties", {}).values())
            if len(patterns) > 1:
                raise NotImplementedError(f"unsupported schema {schema!r}")
            values = patterns[0] if patterns else schema.get("additionalProperties", True)
            return f"dict[str, {'Any' if values is True else self.type_of(values, form)}]"
        raise NotImplementedError(f"unsupported schema {schema!r}")

    def render(self) -> str:
        for name, form in RECORDS.items():
            schema = getattr(self.models, name).model_json_schema()
            self.defs.update(schema.get("$defs", {}))
            self.model(name, schema, form)
        body: list[str] = []
        for choices, name in self.choices.items():
            if name in self.used_choices:
                body += _wrap_literal(name, choices)
        for name in self.order:
            body += ["", "", *self.classes[name]]
        text = "\n".join(body)
        names = ["Any", "Literal", "NotRequired", "TypedDict"]
        used = [n for n in names if n == "TypedDict" or f"{n}[" in text or f"{n}]" in text]
        return HEADER.replace("{typing}", ", ".join(used)) + "\n" + text + "\n"


def generate() -> str:
    """The source of core/records.py."""
    return _Generator().render()


def write(target: Path = TARGET) -> None:
    target.write_text(generate(), encoding="utf-8")
