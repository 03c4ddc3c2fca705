"""Containing ``command`` agents: real heartbeat ticks whose child (a small Python script) tries
to act as someone else or to edit the workspace behind agentctl's back.

Unsandboxed: identity is enforced in the CLI (``--as`` another agent is refused; the child's
process tree acts only as its agent) and direct file changes are found by comparing a
snapshot, reverted, the agent blocked and the leads told. Sandboxed (bwrap): the same attacks
fail at the OS level and the legitimate call goes through the tick's broker.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, make_team

HEADER = """\
import json, os, subprocess, sys, time
from pathlib import Path
ROOT = Path(os.environ["AGENTCTL_WORKSPACE"])
TASK = os.environ.get("AGENTCTL_TASK", "")
OUT = Path(sys.argv[1])

def agentctl(*args, env=None):
    r = subprocess.run([sys.executable, "-m", "agentctl", *args], capture_output=True, text=True, env=env)
    return {"code": r.returncode, "err": r.stderr.strip(), "out": r.stdout}

def report(**data):
    OUT.write_text(json.dumps(data))

def edit(rel, old, new):
    path = ROOT / rel
    text = path.read_text()
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1))
"""

# Each attack runs in the child and reports what it saw; its stdout is the answer.
ATTACKS: dict[str, str] = {
    "as_lead": "report(r=agentctl('--as', 'lead-1', 'task', 'move', TASK, 'done'))",
    "env_lead": "report(r=agentctl('task', 'move', TASK, 'done', env={**os.environ, 'AGENTCTL_AGENT': 'lead-1'}))",
    "unset_env": (
        "def unset(*args):\n"
        "    r = subprocess.run(['env', '-u', 'AGENTCTL_AGENT', sys.executable, '-m', 'agentctl', *args],"
        " capture_output=True, text=True)\n"
        "    return {'code': r.returncode, 'err': r.stderr.strip(), 'out': r.stdout}\n"
        "report(edit=unset('agent', 'edit', 'dev-1', '--level', 'lead'),"
        " add=unset('task', 'add', 'made without AGENTCTL_AGENT', '--json'))"
    ),
    "escape_session": (
        # double fork + setsid: a process outside the child's session and process group
        "env = {k: v for k, v in os.environ.items() if k != 'AGENTCTL_AGENT'}\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        report(add=agentctl('task', 'add', 'made from an escaped process', '--json', env=env))\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "for _ in range(600):\n"
        "    if OUT.exists() and OUT.read_text():\n"
        "        break\n"
        "    time.sleep(0.05)\n"
    ),
    "config_hook": (
        "p = ROOT / '.agentctl' / 'config.yaml'\n"
        "p.write_text(p.read_text() + '\\nhooks:\\n  \"*\":\\n    - [touch, /tmp/agentctl-planted]\\n')\nreport()"
    ),
    "own_level": "edit('.agentctl/agents/dev-1.md', 'level: specialist', 'level: lead'); report()",
    "other_agent": "edit('.agentctl/agents/dev-2.md', 'level: specialist', 'level: intern'); report()",
    "task_file": "edit(f'.agentctl/tasks/{TASK}.md', 'status: assigned', 'status: done'); report()",
    "new_file": "(ROOT / '.agentctl' / 'tasks' / 't-zzzzzz.md').write_text('---\\nid: t-zzzzzz\\n---\\n'); report()",
    "event_forged": (
        "day = sorted((ROOT / '.agentctl' / 'events').iterdir())[-1]\n"
        "with open(day, 'a') as f:\n"
        "    f.write(json.dumps({'id': 'e-forged000000', 'actor': 'lead-1', 'type': 'task.moved'}) + '\\n')\n"
        "report()"
    ),
    "task_edit": "report(r=agentctl('task', 'edit', TASK, '--title', 'renamed by the child'))",
    "window_removed": (
        "for p in (ROOT / '.agentctl' / 'local' / 'run').glob('*.window.json'):\n"
        "    p.unlink()\n"
        "env = {k: v for k, v in os.environ.items() if k != 'AGENTCTL_AGENT'}\n"
        "report(r=agentctl('agent', 'edit', 'dev-1', '--level', 'lead', env=env))"
    ),
    "leave_daemon": (
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.closerange(0, 3)\n"
        "        time.sleep(4)\n"
        "        Path(str(OUT) + '.late').write_text('still alive')\n"
        "    os._exit(0)\n"
        "report()"
    ),
    "legit_working": "report(r=agentctl('working'))",
    "hang": "report(started=True)\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\ntime.sleep(60)",
    "fail": "sys.stderr.write('Error: the parser is broken\\n')\nsys.exit(3)",
    "legit": "report(r=agentctl('--as', 'dev-1', 'task', 'comment', TASK, 'parser done, tests green'))",
}
FILE_ATTACKS = {
    "config_hook": ".agentctl/config.yaml",
    "own_level": ".agentctl/agents/dev-1.md",
    "other_agent": ".agentctl/agents/dev-2.md",
    "task_file": None,  # the task's own file
    "new_file": ".agentctl/tasks/t-zzzzzz.md",
    "event_forged": None,  # today's events file
    "window_removed": ".agentctl/agents/dev-1.md",  # edited by "the human"
}


def command_agent(
    cli: Runner, tmp_path: Path, attack: str, sandbox: str = "none"
) -> tuple[str, Path]:
    """dev-1 as a command agent running ``attack`` (unsandboxed unless ``sandbox``); returns
    (task id, report path)."""
    make_team(cli)
    body = HEADER + ATTACKS[attack] + "\nprint('worked on it')\n"
    path = tmp_path / f"{attack}.py"
    path.write_text(body, encoding="utf-8")
    out = tmp_path / f"{attack}.json"
    command = f"{sys.executable} {path} {out}"
    result = cli(
        "agent", "edit", "dev-1", "--runtime", "command", "--command", command, "--sandbox", sandbox
    )
    assert result.code == 0, str(result)
    task_id = add_task(cli, "implement the parser", "--assign", "dev-1")
    return task_id, out


def protected(root: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted((root / ".agentctl").rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(".agentctl/local/"):
            files[rel] = path.read_bytes()
    return files


def state_of(cli: Runner, name: str) -> dict[str, Any]:
    shown = cli("agent", "show", name, "--json")
    assert shown.code == 0, str(shown)
    return shown.json()["agent"].get("state") or {}


def events(root: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted((root / ".agentctl" / "events").iterdir()):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.append(json.loads(line))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("attack", sorted(FILE_ATTACKS))
def test_direct_changes_are_reverted_and_the_agent_blocked(
    ws_root: Path, cli: Runner, tmp_path: Path, attack: str
) -> None:
    task_id, out = command_agent(cli, tmp_path, attack)
    before = protected(ws_root)
    rel = FILE_ATTACKS[attack] or f".agentctl/tasks/{task_id}.md"
    if attack == "event_forged":
        rel = max(p for p in before if p.startswith(".agentctl/events/"))

    result = cli("heartbeat", "dev-1", "--json")
    assert out.exists(), "the attack did not run"
    assert result.code == 11, str(result)
    if attack == "window_removed":  # the edit went through as the human, and was undone
        assert json.loads(out.read_text())["r"]["code"] == 0
    after = protected(ws_root)
    if attack == "new_file":
        assert rel not in after
    elif attack == "event_forged":
        ids = [json.loads(line)["id"] for line in after[rel].decode().splitlines() if line.strip()]
        assert "e-forged000000" not in ids
    else:
        assert after[rel] == before[rel], f"{rel} was not reverted"
    assert state_of(cli, "dev-1").get("status") == "blocked"
    contained = [e for e in events(ws_root) if e["type"] == "agent.contained"]
    assert len(contained) == 1, contained
    event = contained[0]
    assert event["actor"] == "agentctl"
    assert event["subject"] == "dev-1"
    assert rel in event["data"]["reverted"]
    assert "lead-1" in event["notify"]
    assert rel in event["data"]["diff"] and len(event["data"]["diff"]) <= 4000
    # leads see it in their inbox, humans in the feed
    inbox = cli("inbox", "--agent", "lead-1", "--json")
    assert inbox.code == 0 and "agent.contained" in inbox.out, str(inbox)
    feed = cli("feed")
    assert feed.code == 0 and "dev-1" in feed.out and "reverted" in feed.out, str(feed)
    # blocked: the next tick does not run the command
    out.unlink()
    again = cli("heartbeat", "dev-1", "--json")
    assert again.code == 0, str(again)
    assert not out.exists()
    if attack == "config_hook":
        assert not Path("/tmp/agentctl-planted").exists()


@pytest.mark.slow
def test_descendants_left_behind_are_killed(ws_root: Path, cli: Runner, tmp_path: Path) -> None:
    _, out = command_agent(cli, tmp_path, "leave_daemon")
    result = cli("heartbeat", "dev-1")
    assert result.code == 0, str(result)
    assert out.exists()
    time.sleep(5)
    assert not Path(str(out) + ".late").exists(), "a double-forked descendant outlived the tick"


@pytest.mark.slow
def test_a_legit_child_is_not_blocked_and_its_change_is_kept(
    ws_root: Path, cli: Runner, tmp_path: Path
) -> None:
    task_id, out = command_agent(cli, tmp_path, "legit")
    result = cli("heartbeat", "dev-1", "--json")
    assert result.code == 0, str(result)
    seen = json.loads(out.read_text())
    assert seen["r"]["code"] == 0, seen
    assert state_of(cli, "dev-1").get("status") != "blocked"
    thread = cli("thread", task_id)
    assert "parser done, tests green" in thread.out, str(thread)
    assert not [e for e in events(ws_root) if e["type"] == "agent.contained"]
    comments = [
        e for e in events(ws_root) if e["type"] == "message.added" and e["actor"] == "dev-1"
    ]
    assert comments, "the child's comment is not attributed to dev-1"


@pytest.mark.slow
def test_a_stale_working_md_re_rendered_by_the_child_is_not_tampering(
    ws_root: Path, cli: Runner, tmp_path: Path
) -> None:
    command_agent(cli, tmp_path, "legit_working")
    working = ws_root / "WORKING.md"
    working.write_text(
        working.read_text(encoding="utf-8") + "\nhand-written line outside Notes\n",
        encoding="utf-8",
    )
    result = cli("heartbeat", "dev-1", "--json")
    assert result.code == 0, str(result)
    seen = json.loads((tmp_path / "legit_working.json").read_text())["r"]
    assert seen["code"] == 0, seen
    assert "hand-written line outside Notes" not in working.read_text(encoding="utf-8")
    assert state_of(cli, "dev-1").get("status") != "blocked"


@pytest.mark.slow
@pytest.mark.parametrize("attack", ["as_lead", "env_lead"])
def test_acting_as_another_agent_is_refused(
    ws_root: Path, cli: Runner, tmp_path: Path, attack: str
) -> None:
    task_id, out = command_agent(cli, tmp_path, attack)
    cli("heartbeat", "dev-1")
    seen = json.loads(out.read_text())["r"]
    assert seen["code"] == 7, seen
    assert "lead-1" in seen["err"] and "dev-1" in seen["err"], seen
    assert "Traceback" not in seen["err"]
    shown = cli("task", "show", task_id, "--json").json()["task"]
    assert shown["status"] == "assigned"


@pytest.mark.slow
@pytest.mark.parametrize("attack", ["unset_env", "escape_session"])
def test_without_agentctl_agent_the_child_still_acts_as_its_agent(
    ws_root: Path, cli: Runner, tmp_path: Path, attack: str
) -> None:
    command_agent(cli, tmp_path, attack)
    cli("heartbeat", "dev-1")
    seen = json.loads(out_text(tmp_path, attack))
    if "edit" in seen:  # agent edit needs edit_agents: dev-1 is a specialist
        assert seen["edit"]["code"] == 7, seen
    assert seen["add"]["code"] == 0, seen
    created = [
        e for e in events(ws_root) if e["type"] == "task.created" and "made " in json.dumps(e)
    ]
    assert [e["actor"] for e in created] == ["dev-1"], created
    agent = (ws_root / ".agentctl" / "agents" / "dev-1.md").read_text()
    assert "level: specialist" in agent


def out_text(tmp_path: Path, attack: str) -> str:
    return (tmp_path / f"{attack}.json").read_text()


def test_as_another_agent_with_agentctl_agent_set_is_refused(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    result = cli("--as", "lead-1", "task", "add", "sneaky", env={"AGENTCTL_AGENT": "dev-1"})
    assert result.code == 7, str(result)
    assert result.err.startswith(
        "agentctl: error: --as lead-1 is refused: this process acts as dev-1"
    ), result.err
    same = cli("--as", "dev-1", "task", "add", "fine", env={"AGENTCTL_AGENT": "dev-1"})
    assert same.code == 0, str(same)


# -- sandboxed (bwrap) ---------------------------------------------------------------------------

BWRAP = shutil.which("bwrap")


def _bwrap_works() -> bool:
    if BWRAP is None:
        return False
    import subprocess

    probe = subprocess.run(
        [BWRAP, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


needs_bwrap = pytest.mark.skipif(
    not _bwrap_works(),
    reason="bubblewrap (bwrap) is not installed or user namespaces are unavailable here",
)


@pytest.mark.slow
@needs_bwrap
@pytest.mark.parametrize("attack", ["own_level", "config_hook", "task_file", "new_file"])
def test_sandboxed_direct_changes_fail_at_the_os_level(
    ws_root: Path, cli: Runner, tmp_path: Path, attack: str
) -> None:
    command_agent(cli, tmp_path, attack, sandbox="bwrap")
    before = protected(ws_root)
    result = cli("heartbeat", "dev-1", "--json")
    assert result.code == 11, str(result)
    assert "Read-only file system" in result.out + result.err, str(result)
    after = protected(ws_root)
    for rel, data in before.items():
        if rel.startswith(
            (".agentctl/tasks/", ".agentctl/config.yaml", ".agentctl/agents/dev-1.md")
        ):
            assert after.get(rel) == data, rel
    assert ".agentctl/tasks/t-zzzzzz.md" not in after


@pytest.mark.slow
@needs_bwrap
def test_sandboxed_legit_call_goes_through_the_broker(
    ws_root: Path, cli: Runner, tmp_path: Path
) -> None:
    task_id, out = command_agent(cli, tmp_path, "legit", sandbox="bwrap")
    result = cli("heartbeat", "dev-1", "--json")
    assert result.code == 0, str(result)
    seen = json.loads(out.read_text())
    assert seen["r"]["code"] == 0, seen
    thread = cli("thread", task_id)
    assert "parser done, tests green" in thread.out, str(thread)
    comments = [
        e for e in events(ws_root) if e["type"] == "message.added" and e["actor"] == "dev-1"
    ]
    assert comments


@pytest.mark.slow
@needs_bwrap
@pytest.mark.parametrize("attack", ["as_lead", "env_lead"])
def test_sandboxed_broker_refuses_another_identity(
    ws_root: Path, cli: Runner, tmp_path: Path, attack: str
) -> None:
    task_id, out = command_agent(cli, tmp_path, attack, sandbox="bwrap")
    cli("heartbeat", "dev-1")
    seen = json.loads(out.read_text())["r"]
    assert seen["code"] == 7, seen
    assert cli("task", "show", task_id, "--json").json()["task"]["status"] == "assigned"


@pytest.mark.slow
@needs_bwrap
def test_sandboxed_writes_outside_the_action_set_are_refused(
    ws_root: Path, cli: Runner, tmp_path: Path
) -> None:
    task_id, out = command_agent(cli, tmp_path, "task_edit", sandbox="bwrap")
    result = cli("heartbeat", "dev-1")
    assert result.code == 0, str(result)
    seen = json.loads(out.read_text())["r"]
    assert seen["code"] == 7, seen
    assert seen["err"].startswith(
        "agentctl: error: this command cannot change the workspace inside the sandbox"
    ), seen
    assert cli("task", "show", task_id, "--json").json()["task"]["title"] == "implement the parser"


def test_required_sandbox_without_bwrap_fails_the_tick(
    ws_root: Path, cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from agentctl.heartbeat import sandbox

    command_agent(cli, tmp_path, "legit", sandbox="bwrap")
    only_git = tmp_path / "only-git"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git") or "/usr/bin/git")  # git, but no bwrap
    monkeypatch.setenv("PATH", str(only_git))
    sandbox.bwrap.cache_clear()
    try:
        result = cli("heartbeat", "dev-1", "--json")
    finally:
        sandbox.bwrap.cache_clear()
    assert result.code == 11, str(result)
    run = result.json()["runs"][0]
    assert run["error"] == "agent dev-1: sandbox: bwrap is set but bubblewrap cannot run here", run
    assert not (tmp_path / "legit.json").exists(), "the command ran without its sandbox"


@pytest.mark.slow
@needs_bwrap
def test_sandboxed_child_without_agentctl_agent_still_acts_as_its_agent(
    ws_root: Path, cli: Runner, tmp_path: Path
) -> None:
    command_agent(cli, tmp_path, "unset_env", sandbox="bwrap")
    cli("heartbeat", "dev-1")
    seen = json.loads(out_text(tmp_path, "unset_env"))
    assert seen["edit"]["code"] == 7, seen  # not an action: refused inside the sandbox
    assert seen["add"]["code"] == 0, seen
    created = [
        e for e in events(ws_root) if e["type"] == "task.created" and "made " in json.dumps(e)
    ]
    assert [e["actor"] for e in created] == ["dev-1"], created


@pytest.mark.slow
@needs_bwrap
def test_a_sandboxed_child_that_hangs_is_killed_at_the_timeout(
    ws_root: Path, cli: Runner, tmp_path: Path
) -> None:
    command_agent(cli, tmp_path, "hang", sandbox="bwrap")
    config = ws_root / ".agentctl" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        re.sub(r"(?m)^command_timeout: .*$", "command_timeout: 2", text), encoding="utf-8"
    )
    began = time.monotonic()
    result = cli("heartbeat", "dev-1", "--json")
    assert result.code == 11, str(result)
    assert "timed out after 2 s" in result.out, str(result)
    assert time.monotonic() - began < 30
    assert (tmp_path / "hang.json").exists()


@pytest.mark.slow
@needs_bwrap
def test_a_sandboxed_failure_names_the_agents_program_not_bwrap(
    ws_root: Path, cli: Runner, tmp_path: Path
) -> None:
    command_agent(cli, tmp_path, "fail", sandbox="bwrap")
    result = cli("heartbeat", "dev-1", "--json")
    assert result.code == 11, str(result)
    run = result.json()["runs"][0]
    assert (
        run["error"]
        == f"agent dev-1: command {sys.executable} exited with status 3: Error: the parser is broken"
    ), run
