"""Generates ``core/record_checks.py``, the fast validators of the records the hot paths read
and write, from the pydantic models' JSON Schemas.

The models stay the one definition of each record: this turns their JSON Schema (field set,
required fields, types, patterns, lengths, bounds, choices, nested records) into straight-line
Python calling the checks in :mod:`agentctl.core.fields`; the models' field validators, which
a JSON Schema cannot express, are mapped by name to the same checks. Anything else in a schema
stops the generator, so a new constraint is never silently left out. Run
``python -m agentctl.schema --validators``; ``tests/test_docs.py`` keeps the committed module
equal to the output, ``tests/test_checks.py`` and ``tests/test_schema_agreement.py`` check
that both sides agree.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

# record type (function name) -> model class name, in the order they are generated
RECORDS = {
    "task": "Task",
    "agent": "Agent",
    "agent_state": "AgentState",
    "message": "Message",
    "document": "Document",
    "spec": "Spec",
    "spec_expansion": "SpecExpansion",
    "spec_questions": "SpecQuestions",
    "spec_task_plan": "SpecTaskPlan",
    "event": "Event",
    "inbox_entry": "InboxEntry",
}
TARGET = Path(__file__).parent / "core" / "record_checks.py"

# field validators of the models -> the fast check doing the same (see core/models.py)
VALIDATORS = {
    "parse_priority": "priority",
    "_check_duration": "duration",
    "_check_estimate": "estimate",
}
# validators inside field types (Annotated) -> the fast check doing the same
TYPE_VALIDATORS = {"timestamp_value": "timestamp", "date_value": "day"}
IGNORED = {"title", "description", "default", "examples"}

HEADER = '''"""Fast validators of the records, GENERATED from the pydantic models by
``python -m agentctl.schema --validators`` (agentctl/schema_validators.py): do not edit.

Each ``check_<record>(data, path)`` raises ValidationError("<field>: <problem>", path) for the
first problem, and accepts exactly what the model accepts (tests/test_checks.py).
``priority`` is normalised to 0-3 in place. No pydantic import: writes and reads use these.
"""

from __future__ import annotations

from typing import Any

from agentctl.core import fields as f
'''


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _q(text: str) -> str:
    """A double-quoted Python string literal (the formatter's quote style)."""
    return json.dumps(text)


def _call(indent: str, head: str, args: list[str], tail: str = "") -> list[str]:
    """``head(args)tail`` wrapped the way the formatter wraps a call (line length 100)."""
    line = f"{indent}{head}({', '.join(args)}){tail}"
    if len(line) <= 100:
        return [line]
    inner = f"{indent}    {', '.join(args)}"
    if len(inner) <= 100:
        return [f"{indent}{head}(", inner, f"{indent}){tail}"]
    return [f"{indent}{head}(", *(f"{indent}    {a}," for a in args), f"{indent}){tail}"]


class _Generator:
    def __init__(self) -> None:
        from agentctl.core import models

        self.models = models
        self.constants: dict[str, str] = {}  # code -> constant name
        self.counts: dict[str, int] = {}
        self.functions: dict[str, list[str]] = {}  # model name -> lines
        self.defs: dict[str, Any] = {}

    def constant(self, code: str, stem: str) -> str:
        if code not in self.constants:
            self.counts[stem] = self.counts.get(stem, 0) + 1
            self.constants[code] = f"_{stem}_{self.counts[stem]}"
        return self.constants[code]

    def field_set(self, keys: list[str]) -> str:
        return self.constant(
            "frozenset({" + ", ".join(_q(k) for k in sorted(keys)) + "})", "FIELDS"
        )

    def field_tuple(self, keys: list[str]) -> str:
        """Sorted, so the first problem in name order is the one reported."""
        if not keys:
            return "()"
        items = ", ".join(_q(k) for k in sorted(keys)) + ("," if len(keys) == 1 else "")
        return self.constant(f"({items})", "NAMES")

    def custom_checks(self, model_name: str) -> dict[str, str]:
        """Field name -> fast check name, from the model's field validators and the
        validators in its fields' types (``Timestamp``, ``Day``)."""
        model = getattr(self.models, model_name)
        checks: dict[str, str] = {}
        for field, info in model.model_fields.items():
            for validator in _type_validators(info):
                name = getattr(validator.func, "__name__", repr(validator.func))
                if name not in TYPE_VALIDATORS:
                    raise NotImplementedError(f"{model_name}.{field}: no fast check for {name}")
                checks[field] = TYPE_VALIDATORS[name]
        for decorator in model.__pydantic_decorators__.field_validators.values():
            name = decorator.func.__name__
            if name not in VALIDATORS:
                raise NotImplementedError(f"{model_name}: no fast check for validator {name}")
            for field in decorator.info.fields:
                checks[field] = VALIDATORS[name]
        return checks

    def model(self, name: str, schema: dict[str, Any]) -> str:
        function = f"_check_{_snake(name)}"
        if name in self.functions:
            return function
        self.functions[name] = []  # placeholder against recursion
        _check_keys(schema, {"additionalProperties", "properties", "required", "type", "$defs"})
        if schema.get("additionalProperties") is not False:
            raise NotImplementedError(f"{name}: unknown fields must be refused")
        properties: dict[str, Any] = schema["properties"]
        required = set(schema.get("required", []))
        custom = self.custom_checks(name)
        not_null = [k for k, p in properties.items() if k not in required and not _nullable(p)]
        sets = [self.field_set(list(properties)), self.field_tuple(sorted(required)), self.field_tuple(not_null)]  # fmt: skip
        lines = [
            f"def {function}(data: dict[str, Any], path: str, prefix: str = {_q('')}) -> None:"
        ]
        lines += _call("    ", "f.fields", ["data", "path", "prefix", *sets])
        for key, prop in properties.items():
            key_code = "{prefix}" + key
            inner = _without_null(prop)
            if key in required:
                lines.append(f"    value = data[{_q(key)}]")
                lines += self.value(inner, "value", key_code, custom.get(key), key, "    ", 1)
            elif _nullable(prop):
                lines.append(f"    value = data.get({_q(key)})")
                lines.append("    if value is not None:")
                lines += self.value(inner, "value", key_code, custom.get(key), key, "        ", 1)
            else:
                lines.append(f"    if {_q(key)} in data:")
                if custom.get(key) != "priority":
                    lines.append(f"        value = data[{_q(key)}]")
                lines += self.value(inner, "value", key_code, custom.get(key), key, "        ", 1)
        self.functions[name] = lines
        return function

    def value(
        self,
        schema: dict[str, Any],
        var: str,
        key_code: str,
        custom: str | None,
        field: str,
        indent: str,
        depth: int,
    ) -> list[str]:
        """Lines checking ``var`` against ``schema``; ``key_code`` is the f-string body of its
        field name."""
        key = f'f"{key_code}"'
        if custom == "priority":  # a before-validator: it takes any value and normalises it
            return _call(
                indent, f"data[{_q(field)}] = f.priority", ["path", key, f"data[{_q(field)}]"]
            )
        if "$ref" in schema:
            _check_keys(schema, {"$ref"})
            target = schema["$ref"].rsplit("/", 1)[1]
            function = self.model(target, self.defs[target])
            lines = _call(indent, f"{var} = f.mapping", ["path", key, var])
            return lines + _call(indent, function, [var, "path", f'f"{key_code}."'])
        kind = schema.get("type")
        if kind == "string" and schema.get("format") in ("date-time", "date"):
            _check_keys(schema, {"type", "format"})
            check = "timestamp" if schema["format"] == "date-time" else "day"
            if custom != check:  # pydantic's own parsing would differ from the fast check
                raise NotImplementedError(f"{field}: use the Timestamp or Day type of the models")
            return _call(indent, f"f.{check}", ["path", key, var])
        if "enum" in schema or "const" in schema:
            _check_keys(schema, {"type", "enum", "const"})
            choices = list(schema["enum"]) if "enum" in schema else [schema["const"]]
            code = (
                "("
                + ", ".join(json.dumps(c) for c in choices)
                + ("," if len(choices) == 1 else "")
                + ")"
            )
            return _call(indent, "f.choice", ["path", key, var, self.constant(code, "CHOICES")])
        if kind == "string":
            _check_keys(schema, {"type", "minLength", "maxLength", "pattern"})
            args = ["path", key, var]
            if "minLength" in schema:
                args.append(f"low={schema['minLength']}")
            if "maxLength" in schema:
                args.append(f"high={schema['maxLength']}")
            if "pattern" in schema:
                code = f"f.compile_pattern({_q(schema['pattern'])})"
                args.append(f"pattern={self.constant(code, 'PATTERN')}")
            lines = _call(indent, "f.text", args)
            if custom is not None:
                lines += _call(indent, f"f.{custom}", ["path", key, var])
            return lines
        if custom is not None:
            raise NotImplementedError(f"{field}: validator {custom} on a non-string field")
        if kind in ("integer", "number"):
            bounds = {"minimum": "low", "maximum": "high", "exclusiveMinimum": "above", "exclusiveMaximum": "below"}  # fmt: skip
            _check_keys(schema, {"type", *bounds})
            args = ["path", key, var] + [
                f"{arg}={schema[word]!r}" for word, arg in bounds.items() if word in schema
            ]
            return _call(indent, "f.integer" if kind == "integer" else "f.number", args)
        if kind == "boolean":
            _check_keys(schema, {"type"})
            return _call(indent, "f.boolean", ["path", key, var])
        if kind == "array":
            _check_keys(schema, {"type", "items", "minItems", "maxItems"})
            args = ["path", key, var]
            if "minItems" in schema:
                args.append(f"low={schema['minItems']}")
            if "maxItems" in schema:
                args.append(f"high={schema['maxItems']}")
            index, item = ("i", "item") if depth == 1 else (f"i{depth}", f"item{depth}")
            items = schema["items"]
            lines = _call(
                indent, f"for {index}, {item} in enumerate", [f"f.array({', '.join(args)})"], ":"
            )
            inner_indent = indent + "    "
            if _nullable(items):
                lines.append(f"{inner_indent}if {item} is not None:")
                inner_indent += "    "
            return lines + self.value(
                _without_null(items),
                item,
                f"{key_code}.{{{index}}}",
                None,
                field,
                inner_indent,
                depth + 1,
            )
        if kind == "object" and schema.get("additionalProperties") is True:  # dict[str, Any]
            _check_keys(schema, {"type", "additionalProperties"})
            return _call(indent, "f.string_keys", ["path", key, var])
        raise NotImplementedError(f"{field}: unsupported schema {schema!r}")

    def render(self) -> str:
        for model_name in RECORDS.values():
            schema = getattr(self.models, model_name).model_json_schema()
            self.defs.update(schema.get("$defs", {}))
            self.model(model_name, schema)
        out = [HEADER]
        for code, name in self.constants.items():
            out += _assignment(name, code)
        for lines in self.functions.values():
            out += ["", "", *lines]
        for record, model_name in RECORDS.items():
            out += [
                "",
                "",
                f"def check_{record}(data: dict[str, Any], path: str) -> None:",
                f'    """``data`` checked against the {model_name} model (see core/models.py)."""',
                f"    _check_{_snake(model_name)}(data, path)",
            ]
        return "\n".join(out) + "\n"


def _assignment(name: str, code: str) -> list[str]:
    """``name = code`` wrapped the way the formatter wraps a long set or tuple literal."""
    line = f"{name} = {code}"
    if len(line) <= 100:
        return [line]
    if code.startswith("frozenset({"):
        items = code.removeprefix("frozenset({").removesuffix("})").split(", ")
        return [f"{name} = frozenset(", "    {", *(f"        {i}," for i in items), "    }", ")"]
    if code.startswith("("):
        items = code.removeprefix("(").removesuffix(")").rstrip(",").split(", ")
        return [f"{name} = (", *(f"    {i}," for i in items), ")"]
    raise NotImplementedError(f"cannot wrap {line}")


def _type_validators(info: Any) -> list[Any]:
    """The validators of a field's type, also those inside ``X | None`` and ``list[X]``."""
    from pydantic.functional_validators import (
        AfterValidator,
        BeforeValidator,
        PlainValidator,
        WrapValidator,
    )

    kinds = (AfterValidator, BeforeValidator, PlainValidator, WrapValidator)
    found = [m for m in info.metadata if isinstance(m, kinds)]
    pending = [info.annotation]
    while pending:
        current = pending.pop()
        if get_origin(current) is Annotated:
            found.extend(m for m in current.__metadata__ if isinstance(m, kinds))
        pending.extend(a for a in get_args(current) if not isinstance(a, str))
    return found


def _nullable(schema: dict[str, Any]) -> bool:
    return any(alt == {"type": "null"} for alt in schema.get("anyOf", ()))


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without its ``| None`` (and the keys that only document it)."""
    if "anyOf" in schema:
        others = [alt for alt in schema["anyOf"] if alt != {"type": "null"}]
        if len(others) != 1:
            raise NotImplementedError(f"unsupported union {schema!r}")
        schema = {**others[0]}
    return {k: v for k, v in schema.items() if k not in IGNORED}


def _check_keys(schema: dict[str, Any], known: set[str]) -> None:
    unknown = set(schema) - known - IGNORED
    if unknown:
        raise NotImplementedError(f"unsupported schema keys {sorted(unknown)} in {schema!r}")


def generate() -> str:
    """The source of core/record_checks.py."""
    return _Generator().render()


def write(target: Path = TARGET) -> None:
    target.write_text(generate(), encoding="utf-8")
