"""Coding-agent presets of the command runtime (``agent add --runtime command --preset X``)
against fake executables on PATH that behave like each CLI: how they take the prompt (stdin,
an argument, a file), what they print (claude's and gemini's JSON, plain text) and, for aider,
the history files it leaves in the working directory unless told otherwise."""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, git
from helpers_heartbeat import thread, tick_json

from agentctl.errors import RuntimeFailure
from agentctl.runtime.base import Answer
from agentctl.runtime.command import read_output
from agentctl.runtime.presets import PRESETS

# Each fake: how it finds the prompt like the real CLI does, refuses argv the real one would
# not understand, logs what it got, and prints its answer in the CLI's own format. The answer
# is a comment on $AGENTCTL_TASK naming the CLI.
COMMON = """
import json, os, pathlib, sys
args = sys.argv[1:]
log = pathlib.Path(os.environ["FAKE_LOG"])
def answer(name):
    task = os.environ.get("AGENTCTL_TASK", "")
    return json.dumps({"actions": [{"type": "comment", "task": task, "text": "done by " + name}]})
def record(name, prompt):
    assert "Answer with ONE JSON object" in prompt, prompt[:200]
    with log.open("a") as fh:
        fh.write(json.dumps({"cli": name, "args": args, "cwd": os.getcwd()}) + "\\n")
"""
FAKES = {
    "claude": """
if "-p" not in args or args[args.index("--output-format") + 1] != "json":
    sys.exit("claude: expected -p --output-format json")
record("claude", sys.stdin.read())
print(json.dumps({"type": "result", "subtype": "success", "is_error": False, "result": answer("claude"),
                  "total_cost_usd": 0.0123, "usage": {"input_tokens": 900, "output_tokens": 40}}))
""",
    "codex": """
if args[:1] != ["exec"] or args[-1] != "-":
    sys.exit("codex: usage: codex exec [OPTIONS] [PROMPT|-]")
print("thinking...", file=sys.stderr)
record("codex", sys.stdin.read())
print(answer("codex"))
""",
    "gemini": """
prompt = args[args.index("-p") + 1]
if args[args.index("--output-format") + 1] != "json":
    sys.exit("gemini: expected --output-format json")
record("gemini", prompt)
print(json.dumps({"response": answer("gemini"), "stats": {"models": {}}}))
""",
    "aider": """
def option(name):
    return args[args.index(name) + 1] if name in args else None
prompt = pathlib.Path(option("--message-file")).read_text()
for flag in ("--yes-always", "--no-auto-commits", "--no-git"):
    if flag not in args:
        sys.exit(f"aider would ask or commit: {flag} missing")
# Like aider: the chat and input histories go to the working directory unless redirected.
with open(option("--chat-history-file") or ".aider.chat.history.md", "a") as fh:
    fh.write("# aider chat\\n")
with open(option("--input-history-file") or ".aider.input.history", "a") as fh:
    fh.write("+msg\\n")
record("aider", prompt)
print("Aider v0.0 fake\\n" + answer("aider"))
""",
    "opencode": """
if args[:1] != ["run"] or len(args) != 2:
    sys.exit("opencode: usage: opencode run MESSAGE")
record("opencode", args[1])
print(answer("opencode"))
""",
}


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    for name, body in FAKES.items():
        path = directory / name
        path.write_text(f"#!{sys.executable}\n" + COMMON + textwrap.dedent(body), encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return directory


def env_for(fake_bin: Path, log: Path) -> dict[str, str | None]:
    return {"PATH": f"{fake_bin}{os.pathsep}{os.environ.get('PATH', '')}", "FAKE_LOG": str(log)}


def logged(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_each_preset_runs_its_cli_and_reads_its_answer(
    git_ws_root: Path, cli: Runner, fake_bin: Path, tmp_path: Path, preset: str
) -> None:
    log = tmp_path / "calls.jsonl"
    env = env_for(fake_bin, log)
    r = cli(
        "agent",
        "add",
        "dev-1",
        "--role",
        "dev",
        "--runtime",
        "command",
        "--preset",
        preset,
        "--json",
    )
    assert r.code == 0, str(r)
    agent = r.json()["agent"]
    assert agent["command"] == list(PRESETS[preset].command)
    assert agent["output"] == PRESETS[preset].output
    task = add_task(cli, "Write the parser")
    assert cli("task", "assign", task, "dev-1").code == 0
    before = set(os.listdir(git_ws_root))
    [run] = tick_json(cli, "dev-1", env=env)
    assert run["outcome"] == "worked", run
    [call] = logged(log)
    assert call["cli"] == preset and Path(call["cwd"]).resolve() == git_ws_root.resolve()
    comments = [m["body"].strip() for m in thread(cli, task)]
    assert f"done by {preset}" in comments
    assert set(os.listdir(git_ws_root)) == before  # no history files left behind
    assert "new_root_files" not in run
    if preset == "claude":
        assert run["tokens_in"] == 900 and run["tokens_out"] == 40 and run["cost_usd"] == 0.0123
    shown = cli("agent", "show", "dev-1")
    assert f"output:       {PRESETS[preset].output}" in shown.out


def test_new_files_in_the_workspace_root_are_reported(
    git_ws_root: Path, cli: Runner, fake_bin: Path, tmp_path: Path
) -> None:
    """aider without the preset's flags leaves its histories in the root: the run names them."""
    log = tmp_path / "calls.jsonl"
    command = f"{fake_bin / 'aider'} --message-file {{prompt_file}} --yes-always --no-auto-commits --no-git"
    r = cli("agent", "add", "dev-1", "--role", "dev", "--runtime", "command", "--command", command)
    assert r.code == 0, str(r)
    task = add_task(cli, "Write the parser")
    assert cli("task", "assign", task, "dev-1").code == 0
    [run] = tick_json(cli, "dev-1", env=env_for(fake_bin, log))
    assert run["outcome"] == "worked", run
    assert run["new_root_files"] == [".aider.chat.history.md", ".aider.input.history"]
    shown = cli("runs", "--show", run["id"])
    assert "new files in the workspace root (left in place): .aider.chat.history.md" in shown.out
    assert (git_ws_root / ".aider.chat.history.md").exists()  # reported, not removed
    git(git_ws_root, "status", "--porcelain")


def test_preset_errors(git_ws_root: Path, cli: Runner) -> None:
    r = cli("agent", "add", "dev-1", "--role", "dev", "--runtime", "command", "--preset", "vim")
    assert r.code == 2 and "unknown preset 'vim'; presets are: claude, codex" in r.err, str(r)
    r = cli("agent", "add", "dev-1", "--role", "dev", "--preset", "claude")
    assert r.code == 2 and "--preset is for the command runtime" in r.err, str(r)
    r = cli(
        "agent",
        "add",
        "dev-1",
        "--role",
        "dev",
        "--runtime",
        "command",
        "--command",
        "x",
        "--output",
        "xml",
    )
    assert r.code == 2 and "--output" in r.err, str(r)
    # edit: a preset replaces the command and the output format
    r = cli(
        "agent", "add", "dev-1", "--role", "dev", "--runtime", "command", "--command", "my-agent"
    )
    assert r.code == 0, str(r)
    r = cli("agent", "edit", "dev-1", "--preset", "gemini", "--json")
    assert r.code == 0, str(r)
    assert (
        r.json()["agent"]["command"][0] == "gemini" and r.json()["agent"]["output"] == "gemini-json"
    )


def test_reading_json_outputs() -> None:
    ok = read_output(
        "a", "claude-json", Answer(text=json.dumps({"is_error": False, "result": "hi"}))
    )
    assert ok.text == "hi"
    with pytest.raises(RuntimeFailure, match="claude reported an error: Credit balance is too low"):
        read_output(
            "a",
            "claude-json",
            Answer(
                text=json.dumps({"is_error": True, "result": "Credit balance is too low\nmore"})
            ),
        )
    with pytest.raises(
        RuntimeFailure, match="not the JSON object claude-json expects \\(it starts: Error: boom\\)"
    ):
        read_output("a", "claude-json", Answer(text="Error: boom\n"))
    with pytest.raises(RuntimeFailure, match="gemini reported an error: quota"):
        read_output("a", "gemini-json", Answer(text=json.dumps({"error": {"message": "quota"}})))
    assert read_output("a", "gemini-json", Answer(text='{"response": "x"}')).text == "x"
    assert read_output("a", "text", Answer(text="plain")).text == "plain"
