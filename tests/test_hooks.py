"""Event hooks with real subprocesses: stdin, environment, failures, timeouts, no shell."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agentctl.workspace.hooks import MAX_HOOK_DEPTH, HookResult, matching_hooks, run_hooks

EVENT: dict[str, Any] = {
    "id": "e-aaaaaaaaaaa1",
    "ts": "2026-03-01T09:00:00.000Z",
    "actor": "dev-1",
    "type": "task.moved",
    "subject": "t-aaaaaaaaaaa1",
    "data": {"title": "Ship it ✓", "from": "review", "to": "done"},
    "notify": ["lead-1"],
}

RECORDER = """
import json, os, sys
out = sys.argv[1]
data = sys.stdin.read()
with open(out, "w", encoding="utf-8") as fh:
    json.dump({"stdin": data, "argv": sys.argv[2:], "cwd": os.getcwd(),
               "env": {k: v for k, v in os.environ.items() if k.startswith("AGENTCTL_")}}, fh)
"""

FAILING = """
import sys
sys.stderr.write("\\n  boom: the webhook said 500  \\nsecond line\\n")
sys.exit(3)
"""

HANGING = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
with open(sys.argv[1], "w") as fh:
    fh.write(f"{os.getpid()} {child.pid}")
time.sleep(120)
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path / "ws" / ".agentctl" / "local" / "logs"


def script(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def config(hooks: dict[str, list[list[str]]], timeout: float = 10.0) -> dict[str, Any]:
    return {"hooks": hooks, "hook_timeout": timeout}


def log_lines(logs: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in (logs / "hooks.log").read_text(encoding="utf-8").splitlines()
    ]


def gone(pid: int) -> bool:
    """The process no longer runs (or is a zombie waiting to be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:  # no /proc (macOS): alive as far as we can tell
        return False


def test_matching_order_and_globs() -> None:
    hooks = {
        "*": [["all"]],
        "task.*": [["tasks"], ["shared"]],
        "task.moved": [["moved"], ["shared"]],
        "agent.*": [["agents"]],
        "task.created": [["created"]],
        "task": [["bare-family-name"]],
    }
    cfg = config(hooks)
    assert matching_hooks(cfg, "task.moved") == [["moved"], ["shared"], ["tasks"], ["all"]]
    assert matching_hooks(cfg, "task.dep_added") == [["tasks"], ["shared"], ["all"]]
    assert matching_hooks(cfg, "agent.added") == [["agents"], ["all"]]
    assert matching_hooks(cfg, "taskforce.moved") == [["all"]]  # 'task.*' is the task family only
    assert matching_hooks(cfg, "task") == [["bare-family-name"], ["all"]]
    assert matching_hooks(config({"task.*": [["x"]]}), "memory.added") == []
    assert (
        matching_hooks({}, "task.moved") == []
        and matching_hooks({"hooks": None}, "task.moved") == []
    )


def test_hook_gets_the_event_on_stdin_in_the_workspace(
    root: Path, logs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "seen.json"
    recorder = script(tmp_path, "recorder.py", RECORDER)
    results = run_hooks(
        root, config({"task.*": [[sys.executable, recorder, str(out)]]}), EVENT, logs
    )
    assert [r.ok for r in results] == [True]
    (result,) = results
    assert (
        result.exit_code == 0
        and result.error is None
        and result.argv == (sys.executable, recorder, str(out))
    )
    seen = json.loads(out.read_text(encoding="utf-8"))
    assert (
        json.loads(seen["stdin"]) == EVENT
        and seen["stdin"].endswith("}\n")
        and seen["stdin"].count("\n") == 1
    )
    assert Path(seen["cwd"]).resolve() == root.resolve()
    assert {
        k: v
        for k, v in seen["env"].items()
        if k not in ("AGENTCTL_AGENT", "AGENTCTL_JOBS", "AGENTCTL_HOST")
    } == {  # JOBS, HOST: conftest
        "AGENTCTL_WORKSPACE": str(root),
        "AGENTCTL_EVENT_TYPE": "task.moved",
        "AGENTCTL_EVENT_ID": "e-aaaaaaaaaaa1",
        "AGENTCTL_EVENT_ACTOR": "dev-1",
        "AGENTCTL_HOOK_DEPTH": "1",
    }
    (line,) = log_lines(logs)
    assert line["event"] == "e-aaaaaaaaaaa1" and line["type"] == "task.moved"
    assert (line["argv"], line["exit"], line["ok"], line["error"], line["stderr"]) == (
        list(result.argv),
        0,
        True,
        None,
        "",
    )
    assert line["duration"] >= 0 and line["ts"].endswith("Z")


def test_arguments_are_never_shell_interpreted(root: Path, logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "argv.json"
    recorder = script(tmp_path, "recorder.py", RECORDER)
    tricky = ["$(touch pwned1)", "`touch pwned2`", "a; touch pwned3", "*", "$HOME", "|", ">pwned4"]
    (result,) = run_hooks(
        root, config({"*": [[sys.executable, recorder, str(out), *tricky]]}), EVENT, logs
    )
    assert result.ok, result.describe()
    assert json.loads(out.read_text(encoding="utf-8"))["argv"] == tricky
    assert sorted(p.name for p in root.iterdir()) == [".agentctl"]  # only the log directory


def test_failures_are_results_and_later_hooks_still_run(
    root: Path, logs: Path, tmp_path: Path
) -> None:
    failing = script(tmp_path, "failing.py", FAILING)
    out = tmp_path / "seen.json"
    recorder = script(tmp_path, "recorder.py", RECORDER)
    not_executable = script(tmp_path, "plain.txt", "just text\n")
    commands = [
        [sys.executable, failing],
        ["agentctl-no-such-program-xyz", "--flag"],
        [str(tmp_path / "missing" / "hook")],
        [not_executable],
        [sys.executable, recorder, str(out)],
    ]
    results = run_hooks(root, config({"task.moved": commands}), EVENT, logs)
    assert [r.exit_code for r in results] == [3, None, None, None, 0]
    assert [r.error for r in results] == [
        "exited with status 3",
        "command not found: agentctl-no-such-program-xyz",
        f"command not found: {tmp_path / 'missing' / 'hook'}",
        f"not executable: {not_executable}",
        None,
    ]
    assert results[0].stderr == "boom: the webhook said 500"
    assert (
        results[0]
        .describe()
        .endswith("' failed (task.moved): exited with status 3: boom: the webhook said 500")
    )
    short = HookResult(("notify", "x"), "task.moved", 1, 0.1, "exited with status 1", "oops")
    assert short.describe() == "hook 'notify x' failed (task.moved): exited with status 1: oops"
    assert out.exists()
    assert [(line["exit"], line["ok"]) for line in log_lines(logs)] == [
        (3, False),
        (None, False),
        (None, False),
        (None, False),
        (0, True),
    ]


def test_a_hanging_hook_is_killed_with_its_process_group(
    root: Path, logs: Path, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    hanging = script(tmp_path, "hanging.py", HANGING)
    (result,) = run_hooks(
        root, config({"*": [[sys.executable, hanging, str(pids)]]}, timeout=2), EVENT, logs
    )
    assert result.timed_out and result.exit_code is None
    assert result.error == "timed out after 2 s (its process group was killed)"
    leader, child = (int(p) for p in pids.read_text(encoding="utf-8").split())
    deadline = time.monotonic() + 10
    while not (gone(leader) and gone(child)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(leader) and gone(child), "the hook or its child survived the timeout"
    assert log_lines(logs)[0]["error"] == result.error


def test_a_hook_that_ignores_stdin_and_a_big_event(root: Path, logs: Path) -> None:
    big = {**EVENT, "data": {"title": "x" * 1_000_000}}
    (result,) = run_hooks(root, config({"*": [[sys.executable, "-c", "pass"]]}), big, logs)
    assert result.ok, result.describe()


def test_nested_hooks_stop_at_the_depth_limit(
    root: Path, logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "seen.json"
    recorder = script(tmp_path, "recorder.py", RECORDER)
    cfg = config({"*": [[sys.executable, recorder, str(out)]]})
    monkeypatch.setenv("AGENTCTL_HOOK_DEPTH", str(MAX_HOOK_DEPTH - 1))
    (result,) = run_hooks(root, cfg, EVENT, logs)
    assert result.ok and json.loads(out.read_text(encoding="utf-8"))["env"][
        "AGENTCTL_HOOK_DEPTH"
    ] == str(MAX_HOOK_DEPTH)
    out.unlink()
    monkeypatch.setenv("AGENTCTL_HOOK_DEPTH", str(MAX_HOOK_DEPTH))
    (result,) = run_hooks(root, cfg, EVENT, logs)
    assert result.skipped and not result.ok and not out.exists()
    assert "' was not run (task.moved): hooks nested 3 deep" in result.describe()
    assert [line["ok"] for line in log_lines(logs)] == [True, False]


def test_no_matching_hook_runs_nothing_and_logs_nothing(root: Path, logs: Path) -> None:
    assert run_hooks(root, config({"agent.*": [["false"]]}), EVENT, logs) == []
    assert not logs.exists()


def test_an_unwritable_log_does_not_fail_the_run(root: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    (result,) = run_hooks(
        root, config({"*": [[sys.executable, "-c", "pass"]]}), EVENT, blocker / "logs"
    )
    assert result.ok


def test_result_description_of_success() -> None:
    result = HookResult(("notify-send", "hi"), "task.moved", 0, 0.1)
    assert result.ok and result.describe() == "hook 'notify-send hi' succeeded"
