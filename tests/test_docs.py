"""Generated documentation stays current: docs/cli.md, the JSON Schemas, the changelog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentctl import schema, schema_records, schema_validators
from agentctl.cli import docgen
from agentctl.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    expected = docgen.render()
    actual = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert actual == expected, (
        "docs/cli.md is stale: run `python -m agentctl.cli.docgen > docs/cli.md`"
    )


def test_every_command_has_help_text() -> None:
    for path, command, _ in docgen.command_tree():
        assert (command.help or command.short_help or "").strip(), (
            f"{' '.join(path)} has no help text"
        )


def test_every_exit_code_is_documented() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for code in ExitCode:
        assert f"| {int(code)} | `{code.name}` |" in text


@pytest.mark.parametrize("name", sorted(schema.RECORDS))
def test_json_schema_is_current(name: str) -> None:
    path = ROOT / "docs" / "schema" / f"{name}.schema.json"
    assert path.read_text(encoding="utf-8") == schema.render(schema.generate()[name]), (
        f"{path} is stale: run `python -m agentctl.schema docs/schema`"
    )
    json.loads(path.read_text(encoding="utf-8"))


def test_generated_validators_are_current() -> None:
    """core/record_checks.py is what the models generate (the hot paths' only schema)."""
    assert schema_validators.TARGET.read_text(encoding="utf-8") == schema_validators.generate(), (
        f"{schema_validators.TARGET} is stale: run `python -m agentctl.schema --validators`"
    )


def test_generated_records_are_current() -> None:
    """core/records.py (the TypedDicts the layers pass around) is what the models generate."""
    assert schema_records.TARGET.read_text(encoding="utf-8") == schema_records.generate(), (
        f"{schema_records.TARGET} is stale: run `python -m agentctl.schema --validators`"
    )


def test_changelog_has_unreleased_section_first() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings and headings[0].startswith("## [Unreleased]")


def test_readme_quickstart_has_the_ci_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]"' in readme and "pytest" in readme
    assert '.venv/bin/pip install -e ".[dev]" && .venv/bin/python -m pytest\n' in readme
    assert 'pip install --quiet -e ".[dev]"' in ci and "\nstep python -m pytest\n" in ci
    assert "\nstep python -m pytest -m slow -n 0\n" in ci
    assert "agentctl demo" in readme


def test_architecture_diagram_is_current() -> None:
    from agentctl import devdocs

    text = devdocs.ARCHITECTURE.read_text(encoding="utf-8")
    assert devdocs.render_architecture(text) == text, (
        "docs/architecture.md is stale: run `python -m agentctl.devdocs architecture`"
    )


def test_workspace_api_reference_is_current() -> None:
    from agentctl import devdocs

    assert devdocs.API.read_text(encoding="utf-8") == devdocs.render_api(), (
        "docs/workspace-api.md is stale: run `python -m agentctl.devdocs api`"
    )
