"""``agentctl config get|list|set|unset``: the workspace configuration by dotted key."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
from conftest import Result, Runner, assert_one_line_error, git, make_team, snapshot

CONFIG = Path(".agentctl") / "config.yaml"


def run_refused(
    cli: Runner,
    root: Path,
    code: int,
    args: tuple[str, ...],
    *needles: str,
    env: dict[str, str] | None = None,
) -> Result:
    """A refused command in a workspace without git: one error line, exit ``code``, and not
    one file changed (the config, the event log, WORKING.md)."""
    files = snapshot(root)
    result = cli(*args, env=env)
    assert_one_line_error(result, code, *needles)
    assert result.out == "", str(result)
    assert snapshot(root) == files, f"files changed after a refused command\n{result}"
    return result


def _diff(before: str, after: str) -> list[str]:
    """The changed lines of a unified diff (without headers and context)."""
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def _events(root: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for path in sorted((root / ".agentctl" / "events").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_set_get_unset_round_trip(ws_root: Path, cli: Runner) -> None:
    r = cli("config", "get", "heartbeat.sync")
    assert (r.code, r.out) == (0, "false\n"), str(r)
    assert cli("config", "get", "heartbeat.sync", "--json").json()["source"] == "file"

    r = cli("config", "set", "heartbeat.sync", "true")
    assert r.code == 0, str(r)
    assert r.out == "set heartbeat.sync = true (was false)\n"
    r = cli("config", "get", "heartbeat.sync", "--json")
    assert r.json() == {
        "schema_version": 1,
        "key": "heartbeat.sync",
        "value": True,
        "source": "file",
        "default": False,
    }
    # the rest of the workspace reads the new value (the config cache follows the file)
    from agentctl.workspace import Workspace

    assert Workspace(ws_root).config["heartbeat"]["sync"] is True

    event = _events(ws_root)[-1]
    assert event["type"] == "config.changed" and event["subject"] == "heartbeat.sync"
    assert event["data"] == {"key": "heartbeat.sync", "old": False, "new": True}
    assert "set config heartbeat.sync to true (was false)" in (ws_root / "WORKING.md").read_text(
        encoding="utf-8"
    )

    r = cli("config", "unset", "heartbeat.sync")
    assert r.code == 0, str(r)
    assert "heartbeat.sync" not in (ws_root / CONFIG).read_text(encoding="utf-8").split(
        "heartbeat:"
    )[1].split("planning:")[0].replace("#", "")
    r = cli("config", "get", "heartbeat.sync", "--json")
    assert (r.json()["value"], r.json()["source"]) == (False, "default")
    assert _events(ws_root)[-1]["data"] == {
        "key": "heartbeat.sync",
        "old": True,
        "new": False,
        "unset": True,
    }
    # unsetting again changes nothing and records nothing
    count = len(_events(ws_root))
    r = cli("config", "unset", "heartbeat.sync")
    assert (r.code, r.out) == (0, "unchanged: heartbeat.sync = false\n"), str(r)
    assert len(_events(ws_root)) == count
    # ... and so does setting the value the file already holds
    r = cli("config", "set", "llm.retries", "2")
    assert (r.code, r.out) == (0, "unchanged: llm.retries = 2\n"), str(r)
    assert len(_events(ws_root)) == count


def test_values_are_yaml_scalars_and_flow_lists(ws_root: Path, cli: Runner) -> None:
    cases = [
        ("llm.fallbacks", "[openai/gpt-4o-mini, ollama/llama3]", ["openai/gpt-4o-mini", "ollama/llama3"]),
        ("llm.temperature", "0.5", 0.5),
        ("dispatch.wip_limit", "4", 4),
        ("llm.model", "ollama/qwen2.5", "ollama/qwen2.5"),
        ("llm.model", "null", None),
        ("dispatch.labels", "{ui: [frontend]}", {"ui": ["frontend"]}),
        ("name", "Team Rocket", "Team Rocket"),
        ("tasks.claim_lease", "90m", "90m"),
    ]  # fmt: skip
    for key, text, value in cases:
        r = cli("config", "set", key, text)
        assert r.code == 0, str(r)
        assert cli("config", "get", key, "--json").json()["value"] == value, key
    text = (ws_root / CONFIG).read_text(encoding="utf-8")
    assert "  fallbacks: [openai/gpt-4o-mini, ollama/llama3]" in text
    assert "  labels: {ui: [frontend]}" in text
    assert "  model: null             # default model" in text
    r = cli("config", "get", "llm.fallbacks")
    assert r.out == "[openai/gpt-4o-mini, ollama/llama3]\n", str(r)


def test_set_changes_one_line_and_keeps_the_comments(ws_root: Path, cli: Runner) -> None:
    path = ws_root / CONFIG
    before = path.read_text(encoding="utf-8")
    assert cli("config", "set", "heartbeat.sync", "true").code == 0
    after = path.read_text(encoding="utf-8")
    assert _diff(before, after) == [
        "-  sync: false             # sync before and after each tick (heartbeat, run, cron)",
        "+  sync: true              # sync before and after each tick (heartbeat, run, cron)",
    ]
    assert cli("config", "set", "sync.branch", "main").code == 0  # null -> a value
    assert _diff(after, path.read_text(encoding="utf-8")) == [
        "-  branch: null            # the remote branch; null: the checked-out branch's name",
        "+  branch: main            # the remote branch; null: the checked-out branch's name",
    ]
    # unset removes the line with its own comment; the comment lines about what follows stay
    middle = path.read_text(encoding="utf-8")
    assert cli("config", "unset", "workflow.require_review").code == 0
    assert _diff(middle, path.read_text(encoding="utf-8")) == [
        "-  require_review: true    # every agent, leads too, reaches done only through review by another agent"
    ]
    # setting it again puts it back where the template has it, before those comment lines
    assert cli("config", "set", "workflow.require_review", "false").code == 0
    assert _diff(middle, path.read_text(encoding="utf-8")) == [
        "-  require_review: true    # every agent, leads too, reaches done only through review by another agent",
        "+  require_review: false",
    ]


def test_a_missing_section_is_added(ws_root: Path, cli: Runner) -> None:
    path = ws_root / CONFIG
    text = path.read_text(encoding="utf-8")
    start = text.index("escalation:")
    end = text.index("\n\n", start) + 2
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    r = cli("config", "get", "escalation.bounce_limit", "--json")
    assert (r.json()["value"], r.json()["source"]) == (2, "default"), str(r)
    assert cli("config", "set", "escalation.bounce_limit", "5").code == 0
    assert path.read_text(encoding="utf-8").endswith("escalation:\n  bounce_limit: 5\n")
    r = cli("config", "get", "escalation.bounce_limit", "--json")
    assert (r.json()["value"], r.json()["source"]) == (5, "file"), str(r)
    assert cli("validate").code == 0


def test_unknown_key_is_refused_with_suggestions(ws_root: Path, cli: Runner) -> None:
    r = run_refused(
        cli,
        ws_root,
        2,
        ("config", "set", "heartbeat.synk", "true"),
        "unknown config key 'heartbeat.synk'",
    )
    assert "did you mean heartbeat.sync" in r.err
    r = run_refused(cli, ws_root, 2, ("config", "get", "model"), "unknown config key 'model'")
    assert "llm.model" in r.err
    run_refused(cli, ws_root, 2, ("config", "unset", "nope"), "unknown config key 'nope'")
    r = run_refused(cli, ws_root, 2, ("config", "get", "heartbeat"), "'heartbeat' is a section")
    assert "heartbeat.sync" in r.err


def test_invalid_value_leaves_the_file_unchanged(ws_root: Path, cli: Runner) -> None:
    for args, needle in [
        (("heartbeat.sync", "maybe"), ".agentctl/config.yaml: heartbeat.sync: "),
        (("tasks.priority", "7"), ".agentctl/config.yaml: tasks.priority"),
        (("sync.mode", "squash"), ".agentctl/config.yaml: sync.mode: "),
        (("heartbeat.stale_after", "soon"), ".agentctl/config.yaml: heartbeat.stale_after"),
        (("workflow.initial", "limbo"), "workflow.initial: unknown status 'limbo'"),
        (("llm.fallbacks", "[a, b"), "the value for llm.fallbacks is not valid YAML"),
    ]:
        run_refused(cli, ws_root, 2, ("config", "set", *args), needle)


def test_secrets_never_enter_the_config(ws_root: Path, cli: Runner) -> None:
    key = "sk-" + "a1" * 15
    r = run_refused(cli, ws_root, 2, ("config", "set", "llm.api_base", key), "looks like a secret")
    assert key not in r.err
    r = run_refused(
        cli, ws_root, 2, ("config", "set", "llm.api_key", "x"), "unknown config key 'llm.api_key'"
    )
    assert "come only from the environment" in r.err


def test_agents_may_not_change_the_config(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    for args in (("set", "heartbeat.sync", "true"), ("unset", "heartbeat.sync")):
        run_refused(cli, ws_root, 7, ("--as", "lead-1", "config", *args), "only a person")
        run_refused(
            cli, ws_root, 7, ("config", *args), "only a person", env={"AGENTCTL_AGENT": "dev-1"}
        )
    # the library refuses too (the TUI, scripts)
    from agentctl.errors import PermissionDeniedError
    from agentctl.workspace import Workspace

    ws = Workspace(ws_root)
    with pytest.raises(PermissionDeniedError, match="only a person"):
        ws.set_setting(ws.actor("lead-1"), "heartbeat.sync", "true")
    # reading is open to agents
    r = cli("--as", "dev-1", "config", "get", "heartbeat.sync")
    assert (r.code, r.out) == (0, "false\n"), str(r)


def test_env_override_is_shown_with_its_source(ws_root: Path, cli: Runner) -> None:
    env = {"AGENTCTL_AUTOCOMMIT": "0"}
    r = cli("config", "get", "git.autocommit", env=env)
    assert (r.code, r.out) == (0, "false\n"), str(r)
    assert "git.autocommit comes from $AGENTCTL_AUTOCOMMIT (the file says true)" in r.err
    r = cli("config", "get", "git.autocommit", "--json", env=env)
    assert r.json() == {
        "schema_version": 1,
        "key": "git.autocommit",
        "value": False,
        "source": "env",
        "default": True,
        "env": "AGENTCTL_AUTOCOMMIT",
        "file": True,
    }
    r = cli("config", "list", env={"AGENTCTL_LOCK_TIMEOUT": "3"})
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert "lock.timeout = 3.0  ($AGENTCTL_LOCK_TIMEOUT; the file says 10)" in lines
    assert "heartbeat.sync = false" in lines
    assert "git.autocommit = true" in lines
    r = cli("config", "get", "git.autocommit")
    assert (r.out, r.err) == ("true\n", ""), str(r)


def test_list_shows_every_setting_with_defaults(ws_root: Path, cli: Runner) -> None:
    from agentctl.core.config_keys import leaf_keys

    path = ws_root / CONFIG
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  retries: 2\n", ""), encoding="utf-8")
    r = cli("config", "list", "--json")
    assert r.code == 0, str(r)
    settings = {s["key"]: s for s in r.json()["settings"]}
    assert list(settings) == list(leaf_keys())
    assert settings["llm.retries"] == {
        "key": "llm.retries",
        "value": 2,
        "source": "default",
        "default": 2,
    }
    assert settings["heartbeat.sync"]["source"] == "file"
    assert "llm.retries = 2  (default)" in cli("config", "list").out.splitlines()


def test_keys_are_the_models_settings() -> None:
    """The keys (read from the generated TypedDicts) are the pydantic model's leaves."""
    from pydantic import BaseModel

    from agentctl.core.config_keys import leaf_keys
    from agentctl.core.models import Config

    def walk(model: type[BaseModel], prefix: str) -> list[str]:
        keys = []
        for name, field in model.model_fields.items():
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                keys += walk(kind, f"{prefix}{name}.")
            else:
                keys.append(prefix + name)
        return keys

    assert list(leaf_keys()) == walk(Config, "")


def test_set_makes_one_commit_in_git(git_ws_root: Path, cli: Runner) -> None:
    root = git_ws_root
    head = git(root, "rev-parse", "HEAD").strip()
    r = cli("config", "set", "heartbeat.sync", "true")
    assert r.code == 0, str(r)
    assert git(root, "rev-list", "--count", f"{head}..HEAD").strip() == "1"
    assert git(root, "log", "-1", "--format=%s").strip() == (
        "agentctl: set config heartbeat.sync to true (was false)"
    )
    changed = set(git(root, "show", "--name-only", "--format=", "HEAD").split())
    assert ".agentctl/config.yaml" in changed
    assert git(root, "status", "--porcelain") == ""
    diff = git(root, "show", "--format=", "-U0", "HEAD", "--", ".agentctl/config.yaml")
    assert [
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ] == [
        "-  sync: false             # sync before and after each tick (heartbeat, run, cron)",
        "+  sync: true              # sync before and after each tick (heartbeat, run, cron)",
    ]


def test_turning_auto_commit_off_and_on_is_committed(git_ws_root: Path, cli: Runner) -> None:
    root = git_ws_root
    assert cli("config", "set", "git.autocommit", "false").code == 0
    assert git(root, "status", "--porcelain") == ""  # the change that turns commits off
    assert cli("task", "add", "not committed").code == 0
    assert git(root, "status", "--porcelain") != ""
    head = git(root, "rev-parse", "HEAD").strip()
    assert cli("config", "set", "git.autocommit", "true").code == 0
    assert git(root, "rev-list", "--count", f"{head}..HEAD").strip() == "1"
    assert ".agentctl/config.yaml" in git(root, "show", "--name-only", "--format=", "HEAD")


def test_a_windows_file_keeps_its_line_endings(ws_root: Path, cli: Runner) -> None:
    path = ws_root / CONFIG
    before = path.read_bytes().replace(b"\n", b"\r\n")
    path.write_bytes(before)
    assert cli("config", "set", "heartbeat.sync", "true").code == 0
    after = path.read_bytes()
    assert _diff(before.decode(), after.decode()) == [
        "-  sync: false             # sync before and after each tick (heartbeat, run, cron)",
        "+  sync: true              # sync before and after each tick (heartbeat, run, cron)",
    ]
    assert after.count(b"\r\n") == after.count(b"\n") == before.count(b"\n")


def test_working_md_follows_the_change_at_once(ws_root: Path, cli: Runner) -> None:
    assert cli("config", "set", "name", "Team Rocket").code == 0
    working = (ws_root / "WORKING.md").read_text(encoding="utf-8")
    assert working.startswith("# WORKING — Team Rocket\n"), working[:80]


def test_what_get_prints_sets_the_same_value(ws_root: Path, cli: Runner) -> None:
    """Every setting's printed value (``config get``) reads back as the same value: setting it
    is no change where the file holds it. Through the library, to keep it fast."""
    from agentctl.core.config_keys import format_value
    from agentctl.core.rules import Actor
    from agentctl.workspace import Workspace

    path = ws_root / CONFIG
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  retries: 2\n", ""), encoding="utf-8")  # llm.retries: default
    before = path.read_bytes()
    ws, person = Workspace(ws_root), Actor("tester")
    for setting in ws.settings():
        key = setting["key"]
        change = ws.set_setting(person, key, format_value(setting["value"]))
        assert change["changed"] is (setting["source"] == "default"), change
        assert change["new"] == setting["value"], change
        if change["changed"]:
            ws.unset_setting(person, key)
    assert path.read_bytes() == before
