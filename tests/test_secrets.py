"""No secret in files, git or output: sentinel values in the environment are driven through every
runtime (a failing and a talking ``command`` agent, JSON actions, the ``llm`` runtime against a real
HTTP stub), every CLI write path, an error message and a failing hook; then the whole workspace
(``.agentctl/local`` included), ``git log -p --all`` and everything printed are searched for them.

Three sentinels, masked for three different reasons: ``OPENAI_API_KEY`` (its name, and the ``sk-``
shape), ``BUILD_SERVICE_TOKEN`` (its name only) and ``DEPLOY_PASS_VALUE`` (named in the config's
``secrets.env`` only)."""

from __future__ import annotations

import json
import secrets as random_secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Result, Runner, add_task, git
from helpers_heartbeat import Stub, add_command_agent, edit_config, script, serve_stub, thread

from agentctl.core import secrets
from agentctl.core.secrets import MASK, mask, mask_data


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """These tests check their outcome against git (a refused change leaves the repository
    as it was, commits, history): a real repository."""
    return git_ws_root


MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def sentinels(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "OPENAI_API_KEY": f"sk-sentinel-{random_secrets.token_hex(12)}",
        "BUILD_SERVICE_TOKEN": f"tok{random_secrets.token_hex(10)}",
        "DEPLOY_PASS_VALUE": f"plain{random_secrets.token_hex(10)}",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in (
        "OPENAI_BASE_URL",
        "OPENAI_API_BASE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    secrets.reset(names=True)
    return values


@pytest.fixture
def stub() -> Iterator[Stub]:
    with serve_stub() as server:
        yield server


class Recorder:
    """Runs the CLI and keeps everything it printed."""

    def __init__(self, cli: Runner) -> None:
        self.cli = cli
        self.printed: list[str] = []

    def __call__(self, *args: str, code: int | None = 0, **kwargs: Any) -> Result:
        result = self.cli(*args, **kwargs)
        self.printed.append(result.out + result.err)
        if code is not None:
            assert result.code == code, str(result)
        return result


def hits(text: str, values: dict[str, str]) -> list[str]:
    return [name for name, value in values.items() if value in text]


def workspace_hits(root: Path, values: dict[str, str]) -> dict[str, list[str]]:
    """Sentinels found in any file under ``root`` (``.agentctl/local`` and ``.git`` metadata
    included; git's compressed objects are searched through ``git log -p --all`` instead)."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".git/objects/") or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        names = hits(text, values) + hits(rel, values)
        if names:
            found[rel] = names
    return found


def test_no_sentinel_reaches_files_git_or_output(
    ws_root: Path, cli: Runner, stub: Stub, sentinels: dict[str, str], tmp_path: Path
) -> None:
    root = ws_root
    run = Recorder(cli)
    key, token, configured = (
        sentinels["OPENAI_API_KEY"],
        sentinels["BUILD_SERVICE_TOKEN"],
        sentinels["DEPLOY_PASS_VALUE"],
    )
    leak = f"key {key} token {token} pass {configured}"
    edit_config(root, "env: []", "env: [DEPLOY_PASS_VALUE]")
    edit_config(root, "api_base: null", f"api_base: {stub.base}")
    edit_config(root, "retries: 2", "retries: 0")
    run("agent", "add", "lead-1", "--role", "lead", "--level", "lead")
    scripts = tmp_path / "scripts"

    # CLI write paths, each given all three sentinels.
    task = add_task(
        run, f"Rotate {key}", "-d", f"The old one was {leak}", "--ac", f"{token} revoked"
    )
    run("task", "comment", task, f"@lead-1 careful: {leak}")
    run("task", "edit", task, "--title", f"Rotate the key {configured}")
    run(
        "doc",
        "add",
        f"Runbook {token}",
        "--type",
        "protocol",
        "--task",
        task,
        input=f"# Steps\n\nexport KEY={leak}\n",
    )
    run("--as", "lead-1", "memory", "add", "lead-1", f"remember {leak}")
    run("--as", "lead-1", "memory", "add", "lead-1", f"long term {leak}", "--long-term")
    run("note", f"deploys use {leak}")
    run("task", "add", "a title", "--priority", key, code=None)  # a usage error quoting the value
    run("task", "show", f"t-{configured}", code=None)  # a not-found error quoting the reference

    # A command agent that fails with the key on stderr.
    failing = script(
        scripts,
        "failing",
        "sys.stderr.write('Error: bad key ' + os.environ['OPENAI_API_KEY'] + ' / ' + os.environ['DEPLOY_PASS_VALUE'] + '\\n'); sys.exit(3)\n",
    )
    add_command_agent(run, "failing", failing)
    add_task(run, "work for failing", "--assign", "failing")
    failed = run("heartbeat", "failing", "--json", code=11)
    record = failed.json()["runs"][0]
    assert record["outcome"] == "failed" and f"Error: bad key {MASK} / {MASK}" in record["error"], (
        record
    )

    # A command agent whose plain output (posted as a comment) holds the secrets.
    talking = script(
        scripts,
        "talking",
        "print('Done. I used ' + os.environ['BUILD_SERVICE_TOKEN'] + ' and ' + os.environ['OPENAI_API_KEY'])\n",
    )
    add_command_agent(run, "talking", talking)
    talk_task = add_task(run, "work for talking", "--assign", "talking")
    run("heartbeat", "talking")
    posted = [m["body"] for m in thread(run, talk_task)]
    assert any(f"Done. I used {MASK} and {MASK}" in body for body in posted), posted

    # A command agent answering with JSON actions that carry the secrets.
    acting = script(
        scripts,
        "acting",
        """
        task = os.environ["AGENTCTL_TASK"]
        leak = "key " + os.environ["OPENAI_API_KEY"] + " pass " + os.environ["DEPLOY_PASS_VALUE"] + " token " + os.environ["BUILD_SERVICE_TOKEN"]
        print(json.dumps({"actions": [
            {"type": "comment", "task": task, "text": "status: " + leak},
            {"type": "create_task", "title": "follow-up " + os.environ["BUILD_SERVICE_TOKEN"], "description": leak},
            {"type": "write_doc", "task": task, "doc_type": "deliverable", "title": "notes " + os.environ["DEPLOY_PASS_VALUE"], "body": leak},
            {"type": "remember", "text": leak},
            {"type": "notify", "agent": "lead-1", "text": leak},
        ]}))
        """,
    )
    add_command_agent(run, "acting", acting, level="lead", role="lead")
    act_task = add_task(run, "work for acting", "--assign", "acting")
    acted = run("heartbeat", "acting", "--json").json()["runs"][0]
    assert acted["outcome"] == "worked" and acted["applied"] == 5 and acted["rejected"] == 0, acted
    assert any(
        f"status: key {MASK} pass {MASK} token {MASK}" in m["body"] for m in thread(run, act_task)
    )

    # The llm runtime, against a real HTTP server, answering with the secrets.
    run("agent", "add", "llm-1", "--role", "developer", "--runtime", "llm", "--model", MODEL)
    llm_task = add_task(run, "work for llm-1", "--assign", "llm-1")
    stub.content = json.dumps({"actions": [
        {"type": "comment", "task": llm_task, "text": f"my key is {key}, the token {token}, the pass {configured}"},
        {"type": "remember", "text": leak},
    ]})  # fmt: skip
    answered = run("heartbeat", "llm-1", "--json").json()["runs"][0]
    assert answered["outcome"] == "worked" and answered["applied"] == 2, answered
    assert stub.seen and stub.seen[-1]["auth"] == f"Bearer {key}", (
        "the key itself reached the model server"
    )

    # A failing hook that prints the secrets on stderr.
    hook = script(
        scripts,
        "hook",
        "sys.stderr.write('hook failed: ' + os.environ['OPENAI_API_KEY'] + ' ' + os.environ['DEPLOY_PASS_VALUE'] + '\\n'); sys.exit(1)\n",
    )
    edit_config(root, "hooks: {}", "hooks:\n  message.added:\n    - " + json.dumps(hook))
    hooked = run("task", "comment", task, "one more")
    assert "hook" in hooked.err and MASK in hooked.err, str(hooked)

    run("runs", "--limit", "50")
    run("feed", "--limit", "100")
    run("feed", "--limit", "100", "--json")
    run("thread", task)
    run("search", "Rotate")
    run("board")
    run("validate")

    assert workspace_hits(root, sentinels) == {}
    history = git(root, "log", "-p", "--all", "--format=%H%n%an <%ae>%n%B")
    assert hits(history, sentinels) == []
    assert (
        git(root, "status", "--porcelain", "--untracked-files=all", "--", ".agentctl", "WORKING.md")
        == ""
    )
    printed = "\n".join(run.printed)
    assert hits(printed, sentinels) == []
    assert printed.count(MASK) >= 5, printed


def test_mask_replaces_environment_secrets_shapes_and_configured_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_API_KEY", "value-of-the-key-1")
    monkeypatch.setenv("github_token", "lowercase-token-2")
    monkeypatch.setenv("DB_PASSWORD", "short")  # under 8 characters: a word, not a secret
    monkeypatch.setenv(
        "SSH_KEY_PATH", "/home/me/.ssh/id_ed25519"
    )  # a path names the secret, it is not one
    monkeypatch.setenv("PLAIN_SETTING", "configured-value-3")
    secrets.reset(names=True)
    text = "a value-of-the-key-1 b lowercase-token-2 c short d /home/me/.ssh/id_ed25519 e configured-value-3"
    assert (
        mask(text) == f"a {MASK} b {MASK} c short d /home/me/.ssh/id_ed25519 e configured-value-3"
    )
    secrets.add_names(["PLAIN_SETTING", "not a name"])
    assert mask("e configured-value-3") == f"e {MASK}"
    shaped = ("sk-proj-" + "a1B2" * 8, "ghp_" + "x" * 36, "github_pat_" + "1A_" * 12, "AKIAIOSFODNN7EXAMPLE",
              "xoxb-1234567890-abcdef", "AIza" + "S" * 35)  # fmt: skip
    for value in shaped:
        assert mask(f"use {value}.") == f"use {MASK}.", value
    for ordinary in (
        "task-sk-1",
        "sk-short",
        "AKIA1234",
        "t-4k7q2m9x3bce",
        "desk-organisation-and-planning",
    ):
        assert mask(ordinary) == ordinary
    assert mask_data({"a": ["x value-of-the-key-1"], "value-of-the-key-1": 3, "n": None}) == {
        "a": [f"x {MASK}"], MASK: 3, "n": None}  # fmt: skip


def test_a_masked_record_stays_valid_yaml(
    ws_root: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MASK is plain text in YAML: a secret as a whole title (an unquoted scalar) or a label
    leaves a record every reader accepts."""
    monkeypatch.setenv("SERVICE_SECRET", "s3cr3t-value-xyz")
    task = add_task(
        cli, "s3cr3t-value-xyz", "--label", "s3cr3t-value-xyz", "-d", "s3cr3t-value-xyz"
    )
    shown = cli("task", "show", task, "--json")
    assert shown.code == 0, str(shown)
    data = shown.json()["task"]
    assert data["title"] == MASK and data["labels"] == [MASK], data
    assert cli("validate").code == 0


def test_a_bad_secrets_env_name_is_a_one_line_config_error(ws_root: Path, cli: Runner) -> None:
    from conftest import assert_one_line_error

    from agentctl.errors import ExitCode

    config = ws_root / ".agentctl" / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("env: []", 'env: ["not a name"]', 1),
        encoding="utf-8",
    )
    assert_one_line_error(cli("task", "add", "x"), ExitCode.VALIDATION, "secrets.env.0")
