"""The ``command`` runtime against real child processes: small Python scripts play the coding
agent (echoing JSON, reading stdin, printing their environment, hanging, failing)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, make_team

from agentctl.errors import ExitCode, RuntimeFailure
from agentctl.runtime import load
from agentctl.runtime.base import Request
from agentctl.runtime.command import OUTPUT_LIMIT, CommandRuntime, compose

SYSTEM = "You are dev-1, a developer. Answer with JSON actions."
PROMPT = "## Your tasks\n- t-abc: make the tests pass ✓\n"


def script(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / f"{name}.py"
    path.write_text("import json, os, sys, subprocess, time\n" + body, encoding="utf-8")
    return [sys.executable, str(path)]


def request(
    root: Path,
    command: list[str] | None,
    *,
    agent: str = "dev-1",
    config: dict[str, Any] | None = None,
    task_id: str | None = None,
    system: str = SYSTEM,
    prompt: str = PROMPT,
) -> Request:
    return Request(
        agent={"name": agent, "runtime": "command", "command": command},
        system=system,
        prompt=prompt,
        workspace_root=root,
        local_dir=root / ".agentctl" / "local",
        config=config or {},
        task_id=task_id,
    )


def alive(pid: int) -> bool:
    """True while ``pid`` is a running (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: fall back to signal 0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def wait_until_dead(pid: int, deadline: float = 15.0) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


def test_load_builds_the_command_runtime() -> None:
    assert isinstance(load("command"), CommandRuntime)


def test_stdout_is_the_answer(tmp_path: Path) -> None:
    actions = {"actions": [{"type": "comment", "task": "t-abc", "body": "done"}]}
    argv = script(tmp_path, "echo_json", f"print(json.dumps({actions!r}))\n")
    answer = CommandRuntime().run(request(tmp_path, argv))
    assert json.loads(answer.text) == actions
    assert (answer.tokens_in, answer.tokens_out, answer.cost_usd, answer.cached) == (
        0,
        0,
        0.0,
        False,
    )


def test_the_prompt_arrives_on_stdin(tmp_path: Path) -> None:
    seen = tmp_path / "seen.txt"
    argv = script(
        tmp_path,
        "reader",
        f"data = sys.stdin.buffer.read()\nopen({str(seen)!r}, 'wb').write(data)\nprint(len(data))\n",
    )
    answer = CommandRuntime().run(request(tmp_path, argv))
    received = seen.read_bytes().decode("utf-8")
    assert received == compose(SYSTEM, PROMPT)
    assert received.startswith(SYSTEM) and received.endswith(PROMPT)
    assert "\n\n---\n\n" in received
    assert answer.text.strip() == str(len(received.encode("utf-8")))


def test_environment_working_directory_and_attribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOME_SETTING", "inherited")
    monkeypatch.setenv("AGENTCTL_AGENT", "somebody-else")  # the runtime's value wins
    root = tmp_path / "ws"
    root.mkdir()
    argv = script(
        tmp_path,
        "env",
        "print(json.dumps({k: os.environ.get(k) for k in "
        "('AGENTCTL_AGENT', 'AGENTCTL_WORKSPACE', 'AGENTCTL_TASK', 'SOME_SETTING')} | {'cwd': os.getcwd()}))\n",
    )
    answer = CommandRuntime().run(request(root, argv, agent="nova", task_id="t-123"))
    assert json.loads(answer.text) == {
        "AGENTCTL_AGENT": "nova",
        "AGENTCTL_WORKSPACE": str(root),
        "AGENTCTL_TASK": "t-123",
        "SOME_SETTING": "inherited",
        "cwd": str(root.resolve()),
    }
    monkeypatch.setenv("AGENTCTL_TASK", "t-stale")
    answer = CommandRuntime().run(request(root, argv, agent="nova"))
    assert json.loads(answer.text)["AGENTCTL_TASK"] is None


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids.json"
    argv = script(
        tmp_path,
        "hang",
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pids)!r}, 'w').write(json.dumps([os.getpid(), child.pid]))\n"
        "print('working...', flush=True)\n"
        "time.sleep(120)\n",
    )
    with pytest.raises(RuntimeFailure) as caught:
        CommandRuntime().run(request(tmp_path, argv, config={"command_timeout": 1}))
    assert caught.value.exit_code == ExitCode.RUNTIME
    assert str(caught.value) == (
        f"agent dev-1: command {sys.executable} timed out after 1 s (its process group was killed)"
    )
    assert caught.value.hint == "raise command_timeout in .agentctl/config.yaml"
    leader, grandchild = json.loads(pids.read_text())
    assert wait_until_dead(leader)
    assert wait_until_dead(grandchild), "the grandchild survived the timeout"


def test_a_child_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        "stubborn",
        "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\ntime.sleep(120)\n",
    )
    with pytest.raises(RuntimeFailure, match="timed out after 0.5 s"):
        CommandRuntime().run(request(tmp_path, argv, config={"command_timeout": 0.5}))


def test_non_zero_exit_is_a_runtime_failure_with_the_last_stderr_line(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        "fails",
        "print('partial output')\nprint('warming up', file=sys.stderr)\n"
        "print('fatal: no credentials', file=sys.stderr)\nprint('see --help', file=sys.stderr)\nsys.exit(3)\n",
    )
    with pytest.raises(RuntimeFailure) as caught:
        CommandRuntime().run(request(tmp_path, argv))
    assert caught.value.exit_code == ExitCode.RUNTIME
    assert (
        str(caught.value)
        == f"agent dev-1: command {sys.executable} exited with status 3: fatal: no credentials"
    )


def test_killed_by_a_signal(tmp_path: Path) -> None:
    argv = script(tmp_path, "suicide", "import signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    with pytest.raises(RuntimeFailure, match=r"command .* was killed by SIGKILL$"):
        CommandRuntime().run(request(tmp_path, argv))


def test_missing_executable(tmp_path: Path) -> None:
    with pytest.raises(RuntimeFailure) as caught:
        CommandRuntime().run(request(tmp_path, ["no-such-agent-cli-7f3a", "-p"]))
    assert str(caught.value) == "agent dev-1: command not found: no-such-agent-cli-7f3a"
    assert caught.value.hint is not None and "absolute path" in caught.value.hint
    assert caught.value.exit_code == ExitCode.RUNTIME


def test_not_executable(tmp_path: Path) -> None:
    path = tmp_path / "agent.sh"
    path.write_text("#!/bin/sh\necho hi\n", encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(RuntimeFailure, match=r"^agent dev-1: command is not executable: "):
        CommandRuntime().run(request(tmp_path, [str(path)]))


@pytest.mark.parametrize("command", [None, [], ["claude", ""], "claude -p"])
def test_no_command_configured(tmp_path: Path, command: Any) -> None:
    with pytest.raises(RuntimeFailure) as caught:
        CommandRuntime().run(request(tmp_path, command))
    assert str(caught.value) == "agent dev-1: no command configured for the command runtime"


def test_never_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    argv = script(tmp_path, "args", "print(json.dumps(sys.argv[1:]))\n")
    hostile = f"; touch {marker}; $(touch {marker}) `touch {marker}`"
    answer = CommandRuntime().run(request(tmp_path, [*argv, hostile, "*"]))
    assert json.loads(answer.text) == [hostile, "*"]
    assert not marker.exists()


def test_output_is_capped_and_drained(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        "flood",
        "chunk = b'x' * 65536\nfor _ in range(64):\n    sys.stdout.buffer.write(chunk)\n"
        "sys.stdout.buffer.flush()\nprint('the end', file=sys.stderr)\n",
    )
    answer = CommandRuntime().run(request(tmp_path, argv))
    body, _, marker = answer.text.partition("\n[agentctl: ")
    assert body == "x" * OUTPUT_LIMIT
    assert marker == f"output truncated at 256 KiB of {64 * 65536:,} bytes]\n"


def test_undecodable_output_is_replaced(tmp_path: Path) -> None:
    argv = script(tmp_path, "binary", "sys.stdout.buffer.write(b'ok \\xff\\xfe done')\n")
    assert CommandRuntime().run(request(tmp_path, argv)).text == "ok \ufffd\ufffd done"


def test_a_child_that_ignores_a_large_stdin_still_answers(tmp_path: Path) -> None:
    argv = script(tmp_path, "deaf", "print('no need to read')\n")
    answer = CommandRuntime().run(request(tmp_path, argv, prompt="y" * (2 * 1024 * 1024)))
    assert answer.text == "no need to read\n"


def test_a_background_descendant_holding_stdout_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "daemon.pid"
    argv = script(
        tmp_path,
        "spawner",
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "print('answer', flush=True)\n",
    )
    answer = CommandRuntime().run(request(tmp_path, argv))
    assert answer.text == "answer\n"
    assert wait_until_dead(int(pid_file.read_text()))


def test_prompt_file_placeholder(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        "msgfile",
        "path = sys.argv[sys.argv.index('--message-file') + 1]\n"
        "print(json.dumps({'file': open(path, encoding='utf-8').read(), 'stdin': sys.stdin.read(),"
        " 'path': path}))\n",
    )
    answer = CommandRuntime().run(
        request(tmp_path, [*argv, "--yes", "--message-file", "{prompt_file}"])
    )
    data = json.loads(answer.text)
    assert data["file"] == compose(SYSTEM, PROMPT)
    assert data["stdin"] == ""
    assert not Path(data["path"]).exists(), "the prompt file outlived the run"


def test_prompt_argument_placeholder(tmp_path: Path) -> None:
    argv = script(
        tmp_path, "msgarg", "print(json.dumps({'arg': sys.argv[2], 'stdin': sys.stdin.read()}))\n"
    )
    answer = CommandRuntime().run(request(tmp_path, [*argv, "--message", "{prompt}"]))
    assert json.loads(answer.text) == {"arg": compose(SYSTEM, PROMPT), "stdin": ""}
    with pytest.raises(RuntimeFailure, match="too long to pass as an argument"):
        CommandRuntime().run(
            request(tmp_path, [*argv, "--message", "{prompt}"], prompt="z" * 200_000)
        )


def test_the_childs_agentctl_calls_act_as_the_agent(
    ws_root: Path, cli: Runner, tmp_path: Path
) -> None:
    make_team(cli)
    task_id = add_task(cli, "implement the parser")
    cli_call = (
        "r = subprocess.run([sys.executable, '-m', 'agentctl', 'task', 'claim', os.environ['AGENTCTL_TASK']],"
        " capture_output=True, text=True)\n"
        "sys.stderr.write(r.stderr)\nprint(json.dumps({'code': r.returncode, 'out': r.stdout}))\n"
        "sys.exit(r.returncode)\n"
    )
    argv = script(tmp_path, "claimer", cli_call)
    answer = CommandRuntime().run(request(ws_root, argv, agent="dev-1", task_id=task_id))
    assert json.loads(answer.text)["code"] == 0, answer.text
    shown = cli("task", "show", task_id, "--json")
    assert shown.code == 0, str(shown)
    task = shown.json()["task"]
    assert task["status"] == "in_progress"
    assert task["claim"]["claimed_by"] == "dev-1"
    events = [
        json.loads(line)
        for path in sorted((ws_root / ".agentctl" / "events").iterdir())
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    claimed = [e for e in events if e["type"] == "task.claimed" and e["subject"] == task_id]
    assert [e["actor"] for e in claimed] == ["dev-1"]

    # the same child acting as an intern is refused by the permission check
    other = add_task(cli, "remove me")
    remover = script(
        tmp_path,
        "remover",
        "r = subprocess.run([sys.executable, '-m', 'agentctl', 'task', 'rm', os.environ['AGENTCTL_TASK']],"
        " capture_output=True, text=True)\nsys.stderr.write(r.stderr)\nsys.exit(r.returncode)\n",
    )
    with pytest.raises(RuntimeFailure) as caught:
        CommandRuntime().run(request(ws_root, remover, agent="intern-1", task_id=other))
    assert str(caught.value) == (
        f"agent intern-1: command {sys.executable} exited with status 7: "
        "agentctl: error: intern-1 (intern) may not remove tasks"
    )
    assert cli("task", "show", other).code == 0
