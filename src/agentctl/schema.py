"""JSON Schemas of the record frontmatter, generated from the pydantic models.

``python -m agentctl.schema [DIR]`` writes ``docs/schema/<record>.schema.json``;
``python -m agentctl.schema --validators`` writes the fast validators generated from the same
models (``core/record_checks.py``, see schema_validators.py) and the TypedDicts of the records
(``core/records.py``, see schema_records.py). Tests keep all of them current.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RECORDS = {
    "task": "Task",
    "agent": "Agent",
    "agent-state": "AgentState",
    "message": "Message",
    "document": "Document",
    "spec": "Spec",
    "spec-expansion": "SpecExpansion",
    "spec-questions": "SpecQuestions",
    "spec-task-plan": "SpecTaskPlan",
    "event": "Event",
    "inbox-entry": "InboxEntry",
    "config": "Config",
}


def generate() -> dict[str, dict[str, Any]]:
    from agentctl.core import models

    schemas = {}
    for name, model_name in RECORDS.items():
        model = getattr(models, model_name)
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://agentctl.dev/schema/{name}.schema.json"
        schemas[name] = schema
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--validators"]:
        from agentctl import schema_records, schema_validators

        schema_validators.write()
        schema_records.write()
        return
    target = Path(args[0]) if args else Path("docs/schema")
    target.mkdir(parents=True, exist_ok=True)
    for name, schema in generate().items():
        (target / f"{name}.schema.json").write_text(render(schema), encoding="utf-8")


if __name__ == "__main__":
    main()
