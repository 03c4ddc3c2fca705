"""``agentctl cron install|status|uninstall`` against a real crontab file.

A fake ``crontab`` program (written into a tmp bin dir at the front of PATH) behaves like
cronie's for the two calls agentctl makes: ``crontab -l`` prints the stored table or says
"no crontab for USER" and exits 1, ``crontab -`` (or ``crontab FILE``) stores its input. The
tests check the exact stored bytes, and run generated lines through /bin/sh the way cron does.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from conftest import Runner, assert_one_line_error, make_git_repo, make_team, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from agentctl.core.schedule import Schedule, ScheduleError, next_times, parse_active_hours
from agentctl.errors import ExitCode, NotFoundError
from agentctl.heartbeat import cron

FAKE_CRONTAB = """#!{python}
import os, sys
store = os.environ["FAKE_CRONTAB_FILE"]
with open(store + ".calls", "a", encoding="utf-8") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if os.environ.get("FAKE_CRONTAB_FAIL"):
    sys.stderr.write("You (tester) are not allowed to use this program (crontab)\\n")
    sys.exit(1)
args = sys.argv[1:]
if args == ["-l"]:
    if not os.path.exists(store):
        sys.stderr.write("no crontab for " + os.environ.get("USER", "user") + "\\n")
        sys.exit(1)
    with open(store, "rb") as fh:
        sys.stdout.buffer.write(fh.read())
    sys.exit(0)
if args == ["-"]:
    data = sys.stdin.buffer.read()
elif len(args) == 1 and not args[0].startswith("-"):
    with open(args[0], "rb") as fh:
        data = fh.read()
else:
    sys.stderr.write("usage: crontab [-l | - | FILE]\\n")
    sys.exit(2)
with open(store, "wb") as fh:
    fh.write(data)
"""

USER_TABLE = (
    "MAILTO=me@example.com\n"
    "# nightly backup (keep!)\n"
    "30 2 * * * /usr/local/bin/backup --date=$(date +\\%F)   \n"
    "\n"
    "@reboot echo 'booted'\r\n"
)


@pytest.fixture
def crontab_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file the fake ``crontab`` on PATH stores the table in (absent = no crontab)."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    program = bin_dir / "crontab"
    program.write_text(FAKE_CRONTAB.format(python=sys.executable), encoding="utf-8")
    program.chmod(0o755)
    store = tmp_path / "crontab.txt"
    monkeypatch.setenv("FAKE_CRONTAB_FILE", str(store))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return store


def stored(store: Path) -> str:
    """The stored table exactly (no newline translation: it holds a CRLF line)."""
    return store.read_bytes().decode("utf-8")


def calls(store: Path) -> list[str]:
    path = Path(str(store) + ".calls")
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@pytest.fixture
def team_root(ws_root: Path, cli: Runner) -> Path:
    make_team(cli, cwd=ws_root)
    return ws_root


def expected_line(root: Path, agent: str, fields: str) -> str:
    """A crontab line as documented in docs/scheduling.md, spelled out independently."""
    q = shlex.quote
    log = root / ".agentctl" / "local" / "logs" / f"{agent}.log"
    command = (
        f"cd {q(str(root))} && PATH={q(os.environ['PATH'])} AGENTCTL_HOST=test-host "
        f"{q(os.path.abspath(sys.executable))} "
        f"-m agentctl -W {q(str(root))} heartbeat {agent} >> {q(str(log))} 2>&1"
    )
    return f"{fields} {command.replace('%', chr(92) + '%')}"


def expected_block(root: Path, lines: list[tuple[str, str]]) -> str:
    body = [expected_line(root, agent, fields) for agent, fields in lines]
    return (
        "\n".join(
            [
                f"# BEGIN agentctl {root}",
                "# Managed by 'agentctl cron install'; remove with 'agentctl cron uninstall'.",
                *body,
                f"# END agentctl {root}",
            ]
        )
        + "\n"
    )


TEAM_LINES = [
    ("dev-1", "0,15,30,45 * * * *"),
    ("dev-2", "2,17,32,47 * * * *"),
    ("intern-1", "4,19,34,49 * * * *"),
    ("lead-1", "6,21,36,51 * * * *"),
]


def set_heartbeat(root: Path, agent: str, **settings: str) -> None:
    """Rewrite the agent record's heartbeat mapping (the CLI only sets ``every``)."""
    path = root / ".agentctl" / "agents" / f"{agent}.md"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\nheartbeat:\n(  .*\n)*", "\n", text)
    lines = "".join(f"  {key}: '{value}'\n" for key, value in settings.items())
    text = text.replace("\ncreated_at:", f"\nheartbeat:\n{lines}created_at:", 1)
    path.write_text(text, encoding="utf-8")


def cron_shell_command(line: str) -> tuple[str, str]:
    """What cron hands to /bin/sh for ``line``: the command (``\\%`` -> ``%``; an unescaped
    ``%`` ends it) and the stdin text after it (cronie's ``do_command.c`` rules)."""
    command = line.split(None, 5)[5]
    out: list[str] = []
    escaped = False
    for i, ch in enumerate(command):
        if escaped:
            if ch == "%":
                out[-1] = "%"
            else:
                out.append(ch)
            escaped = False
            continue
        if ch == "%":
            return "".join(out), command[i + 1 :].replace("%", "\n")
        escaped = ch == "\\"
        out.append(ch)
    return "".join(out), ""


def cron_env(home: Path) -> dict[str, str]:
    """The bare environment cron gives a job."""
    return {"HOME": str(home), "LOGNAME": "tester", "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"}


# -- install -----------------------------------------------------------------------------------


def test_install_writes_one_marked_block_after_the_users_lines(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    crontab_file.write_bytes(USER_TABLE.encode())
    result = cli("cron", "install")
    assert result.code == 0, str(result)
    assert result.out.startswith(f"installed: 4 crontab line(s) for {team_root}\n"), str(result)
    assert (
        crontab_file.read_bytes() == (USER_TABLE + expected_block(team_root, TEAM_LINES)).encode()
    )
    assert (team_root / ".agentctl" / "local" / "logs").is_dir()
    assert calls(crontab_file) == ["-l", "-l", "-"]


def test_install_into_an_empty_crontab(team_root: Path, cli: Runner, crontab_file: Path) -> None:
    assert not crontab_file.exists()
    result = cli("cron", "install", "--agent", "lead-1", "--every", "1h")
    assert result.code == 0, str(result)
    assert stored(crontab_file) == expected_block(team_root, [("lead-1", "0 * * * *")])


def test_user_table_without_final_newline_gets_one_before_the_block(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    crontab_file.write_bytes(b"*/5 * * * * echo hi")
    assert cli("cron", "install", "--agent", "dev-1").code == 0
    assert stored(crontab_file) == "*/5 * * * * echo hi\n" + expected_block(
        team_root, [("dev-1", "0,15,30,45 * * * *")]
    )


def test_installing_twice_leaves_one_block_and_writes_nothing(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    crontab_file.write_bytes(USER_TABLE.encode())
    assert cli("cron", "install").code == 0
    first = crontab_file.read_bytes()
    writes = calls(crontab_file).count("-")
    again = cli("cron", "install", "--json")
    assert again.code == 0, str(again)
    assert again.json()["changed"] is False
    assert crontab_file.read_bytes() == first
    assert calls(crontab_file).count("-") == writes
    assert first.decode().count("# BEGIN agentctl") == 1


def test_reinstall_replaces_the_block_in_place(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    crontab_file.write_bytes(USER_TABLE.encode())
    assert cli("cron", "install").code == 0
    after_line = "0 9 * * 1 echo 'monday'  # after our block\n"
    crontab_file.write_bytes(crontab_file.read_bytes() + after_line.encode())
    result = cli(
        "cron",
        "install",
        "--every",
        "30m",
        "--stagger",
        "5m",
        "--agent",
        "lead-1",
        "--agent",
        "dev-2",
    )
    assert result.code == 0, str(result)
    block = expected_block(team_root, [("lead-1", "0,30 * * * *"), ("dev-2", "5,35 * * * *")])
    assert stored(crontab_file) == USER_TABLE + block + after_line


def test_uninstall_restores_the_users_table_byte_for_byte(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    crontab_file.write_bytes(USER_TABLE.encode())
    assert cli("cron", "install").code == 0
    result = cli("cron", "uninstall")
    assert result.code == 0, str(result)
    assert result.out == f"removed the agentctl block for {team_root} from the crontab\n"
    assert crontab_file.read_bytes() == USER_TABLE.encode()
    writes = calls(crontab_file).count("-")
    again = cli("cron", "uninstall", "--json")
    assert again.code == 0, str(again)
    assert again.json() == {"schema_version": 1, "workspace": str(team_root), "removed": False}
    assert calls(crontab_file).count("-") == writes
    assert crontab_file.read_bytes() == USER_TABLE.encode()


def test_each_workspace_has_its_own_block(
    team_root: Path, cli: Runner, crontab_file: Path, tmp_path: Path
) -> None:
    # The second workspace's path extends the first one's: markers must match whole lines.
    other = make_git_repo(Path(f"{team_root}-2"))
    assert run_cli("init", cwd=other).code == 0
    assert run_cli("agent", "add", "solo", "--role", "dev", cwd=other).code == 0
    crontab_file.write_bytes(USER_TABLE.encode())
    assert cli("cron", "install", "--agent", "dev-1", cwd=team_root).code == 0
    assert run_cli("cron", "install", cwd=other).code == 0
    both = USER_TABLE + expected_block(team_root, [("dev-1", "0,15,30,45 * * * *")])
    both += expected_block(other, [("solo", "0,15,30,45 * * * *")])
    assert stored(crontab_file) == both
    status = run_cli("cron", "status", "--json", cwd=team_root).json()
    assert status["other_workspaces"] == [str(other)]
    assert run_cli("cron", "install", "--agent", "dev-2", cwd=team_root).code == 0
    assert stored(crontab_file) == both.replace(
        expected_line(team_root, "dev-1", "0,15,30,45 * * * *"),
        expected_line(team_root, "dev-2", "0,15,30,45 * * * *"),
    )
    assert cli("cron", "uninstall", cwd=team_root).code == 0
    assert stored(crontab_file) == USER_TABLE + expected_block(
        other, [("solo", "0,15,30,45 * * * *")]
    )


def test_install_warns_when_the_interval_leaves_no_room_to_stagger(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    result = cli("cron", "install", "--every", "1m")
    assert result.code == 0, str(result)
    assert result.err == (
        "agentctl: warning: every 1m has room for only 1 distinct start time(s) for 4 agents; sharing a slot: "
        "dev-1, dev-2, intern-1, lead-1 (use a longer --every, or give agents heartbeat.offset)\n"
    )
    result = cli("cron", "install", "--every", "5m", "--stagger", "2m", "--json")
    assert result.code == 0, str(result)
    assert result.json()["warnings"] == [
        "--stagger 2m does not fit 4 agents into every 5m; staggered 1m apart instead"
    ]
    assert [line["schedule"].split()[0] for line in result.json()["lines"]] == [
        "0,5,10,15,20,25,30,35,40,45,50,55",
        "1,6,11,16,21,26,31,36,41,46,51,56",
        "2,7,12,17,22,27,32,37,42,47,52,57",
        "3,8,13,18,23,28,33,38,43,48,53,58",
    ]


def test_record_schedules_offsets_and_active_hours(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    set_heartbeat(team_root, "dev-1", every="15m", active_hours="09:00-18:00")
    set_heartbeat(team_root, "dev-2", every="2h", offset="90m", active_hours="09:00-18:00")
    set_heartbeat(team_root, "intern-1", every="10m", offset="3m", active_hours="22:00-06:00")
    set_heartbeat(team_root, "lead-1", every="1d", offset="7h45m")
    result = cli("cron", "install", "--json")
    assert result.code == 0, str(result)
    assert result.json()["warnings"] == []
    assert [(line["agent"], line["schedule"]) for line in result.json()["lines"]] == [
        ("dev-1", "0,15,30,45 9-17 * * *"),
        ("dev-2", "30 9,11,13,15,17 * * *"),
        ("intern-1", "3,13,23,33,43,53 0-5,22-23 * * *"),
        ("lead-1", "45 7 * * *"),
    ]
    assert stored(crontab_file) == expected_block(
        team_root,
        [
            ("dev-1", "0,15,30,45 9-17 * * *"),
            ("dev-2", "30 9,11,13,15,17 * * *"),
            ("intern-1", "3,13,23,33,43,53 0-5,22-23 * * *"),
            ("lead-1", "45 7 * * *"),
        ],
    )


def test_active_hours_off_the_hour_narrow_to_whole_hours_with_a_warning(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    set_heartbeat(team_root, "dev-1", every="15m", active_hours="09:30-18:00")
    result = cli("cron", "install", "--agent", "dev-1")
    assert result.code == 0, str(result)
    assert result.err == (
        "agentctl: warning: dev-1: active_hours 09:30-18:00 is not whole hours; "
        "cron skips hour(s) 9, where only some ticks are inside\n"
    )
    assert "\n0,15,30,45 10-17 * * * cd " in stored(crontab_file)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--every", "7m"), "every 7m does not divide an hour"),
        (("--every", "90m"), "every 1h30m is not a whole number of hours that divides 24"),
        (("--every", "5h"), "every 5h is not a whole number of hours that divides 24"),
        (("--every", "2d"), "every 2d is longer than a day"),
        (("--every", "30s"), "every 30s is not a whole number of minutes"),
        (("--every", "0m"), "the interval must be at least 1s"),
        (("--every", "soon"), "--every: invalid duration 'soon'"),
        (("--stagger", "90s"), "dev-2: offset 1m30s is not a whole number of minutes"),
        (("--stagger", "1.5s"), "--stagger: '1.5s' is not a whole number of seconds"),
    ],
)
def test_bad_intervals_are_one_line_errors_and_change_nothing(
    team_root: Path, cli: Runner, crontab_file: Path, args: tuple[str, ...], needle: str
) -> None:
    crontab_file.write_bytes(USER_TABLE.encode())
    result = cli("cron", "install", *args)
    assert_one_line_error(result, ExitCode.USAGE, needle)
    assert result.out == ""
    assert crontab_file.read_bytes() == USER_TABLE.encode()
    assert "-" not in calls(crontab_file)


def test_a_record_interval_cron_cannot_express_names_the_agent(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    assert cli("agent", "edit", "dev-2", "--every", "45m").code == 0
    result = cli("cron", "install")
    assert_one_line_error(
        result, ExitCode.USAGE, "dev-2: every 45m does not divide an hour", "agentctl run"
    )
    assert "agent edit NAME --every" in result.err
    assert not crontab_file.exists()


def test_active_hours_no_tick_can_reach_is_refused(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    set_heartbeat(team_root, "dev-1", every="6h", active_hours="13:00-17:00")
    result = cli("cron", "install", "--agent", "dev-1")
    assert_one_line_error(
        result, ExitCode.USAGE, "dev-1: no tick of every 6h during 13:00-17:00 falls inside"
    )


def test_unknown_agent_and_empty_team(ws_root: Path, cli: Runner, crontab_file: Path) -> None:
    assert_one_line_error(
        cli("cron", "install"), ExitCode.NOT_FOUND, "this workspace has no agents"
    )
    make_team(cli, cwd=ws_root)
    assert_one_line_error(
        cli("cron", "install", "--agent", "ghost"), ExitCode.NOT_FOUND, "no agent named 'ghost'"
    )
    assert_one_line_error(
        cli("cron", "install", "--agent", "../x"), ExitCode.USAGE, "invalid agent name"
    )
    assert not crontab_file.exists()


def test_missing_crontab_program_is_a_one_line_error(
    team_root: Path, cli: Runner, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    for args in (("cron", "install"), ("cron", "status"), ("cron", "uninstall")):
        result = cli(*args, env={"PATH": str(empty)})
        assert_one_line_error(
            result, ExitCode.NOT_FOUND, "the 'crontab' command was not found on PATH"
        )
        assert "agentctl run" in result.err


def test_crontab_refusing_is_a_one_line_error(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    result = cli("cron", "install", env={"FAKE_CRONTAB_FAIL": "1"})
    assert_one_line_error(
        result,
        ExitCode.CONFLICT,
        "'crontab -l' failed (exit 1): You (tester) are not allowed to use this program",
    )


def test_a_damaged_block_is_refused_and_left_alone(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    damaged = USER_TABLE + f"# BEGIN agentctl {team_root}\n0 * * * * echo half a block\n"
    crontab_file.write_bytes(damaged.encode())
    for args in (("cron", "install"), ("cron", "uninstall"), ("cron", "status")):
        result = cli(*args)
        assert_one_line_error(
            result, ExitCode.CONFLICT, "is damaged (a begin marker without an end marker)"
        )
    assert crontab_file.read_bytes() == damaged.encode()


def test_install_json_document(team_root: Path, cli: Runner, crontab_file: Path) -> None:
    data = cli("cron", "install", "--agent", "dev-1", "--json").json()
    log = team_root / ".agentctl" / "local" / "logs" / "dev-1.log"
    assert data == {
        "schema_version": 1,
        "workspace": str(team_root),
        "crontab": str(crontab_file.parent / "fakebin" / "crontab"),
        "changed": True,
        "lines": [
            {
                "agent": "dev-1",
                "schedule": "0,15,30,45 * * * *",
                "every": "every 15m",
                "line": expected_line(team_root, "dev-1", "0,15,30,45 * * * *"),
                "log": str(log),
            }
        ],
        "warnings": [],
    }


# -- status ------------------------------------------------------------------------------------


def test_status_before_install(team_root: Path, cli: Runner, crontab_file: Path) -> None:
    result = cli("cron", "status")
    assert result.code == 0, str(result)
    assert (
        result.out.splitlines()[0]
        == f"not installed: the crontab has no agentctl block for {team_root}"
    )
    data = cli("cron", "status", "--json").json()
    assert data["installed"] is False
    assert [row["installed"] for row in data["agents"]] == [False] * 4
    assert data["extra"] == []


def test_status_shows_lines_missing_extra_and_logs(
    team_root: Path, cli: Runner, crontab_file: Path
) -> None:
    assert cli("cron", "install", "--agent", "dev-1", "--agent", "intern-1").code == 0
    assert cli("agent", "rm", "intern-1").code == 0
    logs = team_root / ".agentctl" / "local" / "logs"
    (logs / "dev-1.log").write_text("dev-1: idle\ndev-1: worked on t-1\n\n", encoding="utf-8")
    os.utime(logs / "dev-1.log", (1_700_000_000, 1_700_000_000))
    data = cli("cron", "status", "--json").json()
    rows = {row["agent"]: row for row in data["agents"]}
    assert list(rows) == ["dev-1", "dev-2", "lead-1"]
    assert rows["dev-1"]["installed"] is True
    assert rows["dev-1"]["schedule"] == "0,15,30,45 * * * *"
    assert rows["dev-1"]["lines"] == [expected_line(team_root, "dev-1", "0,15,30,45 * * * *")]
    assert rows["dev-1"]["last_log_line"] == "dev-1: worked on t-1"
    assert rows["dev-1"]["log_modified"] == datetime.fromtimestamp(1_700_000_000).isoformat()
    assert rows["dev-2"]["installed"] is False and rows["dev-2"]["log_exists"] is False
    assert data["missing"] == ["dev-2", "lead-1"]
    assert data["extra"] == [
        {
            "agent": "intern-1",
            "schedule": "2,17,32,47 * * * *",
            "line": expected_line(team_root, "intern-1", "2,17,32,47 * * * *"),
        }
    ]
    text = cli("cron", "status")
    assert text.code == 0, str(text)
    lines = text.out.splitlines()
    assert lines[0] == f"installed: 2 line(s) in the crontab block for {team_root}"
    assert re.match(r"dev-1 +0,15,30,45 \* \* \* \* +\S+ +dev-1: worked on t-1$", lines[2]), (
        text.out
    )
    assert re.match(r"dev-2 +- +never$", lines[3]), text.out
    assert "missing (no line): dev-2, lead-1  -> run 'agentctl cron install'" in lines
    assert any(
        line.startswith("extra (not an agent here): intern-1: 2,17,32,47 ") for line in lines
    )


# -- the installed lines really run ------------------------------------------------------------


def tricky_workspace(tmp_path: Path, cli: Runner) -> Path:
    """A workspace whose path needs quoting for sh and escaping for cron."""
    root = make_git_repo(tmp_path / "it's 100% $HOME `x` ws")
    assert cli("init", cwd=root).code == 0, "init"
    make_team(cli, cwd=root)
    return root


def test_generated_lines_survive_cron_and_sh(
    tmp_path: Path, cli: Runner, crontab_file: Path, isolated_env: Path
) -> None:
    root = tricky_workspace(tmp_path, cli)
    assert cli("cron", "install", "--agent", "dev-1", cwd=root).code == 0
    line = stored(crontab_file).splitlines()[2]
    assert line.startswith("0,15,30,45 * * * * ")
    command, stdin = cron_shell_command(line)
    assert stdin == ""
    # The same line with the tick replaced by a read command: proves cd, PATH, the python
    # path, -W, the agent name and the log redirection all reach agentctl intact.
    assert " heartbeat dev-1 >> " in command
    probe = command.replace(" heartbeat dev-1 >> ", " agent show dev-1 >> ")
    proc = subprocess.run(
        ["/bin/sh", "-c", probe],
        env=cron_env(isolated_env),
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    log = root / ".agentctl" / "local" / "logs" / "dev-1.log"
    assert log.read_text(encoding="utf-8").startswith("dev-1  (developer, specialist)\n")
    assert "file:         .agentctl/agents/dev-1.md" in log.read_text(encoding="utf-8")


def _has_heartbeat() -> bool:
    from agentctl.cli.app import COMMANDS

    return "heartbeat" in COMMANDS


@pytest.mark.skipif(not _has_heartbeat(), reason="the heartbeat command is not built yet")
def test_an_installed_line_ticks_the_agent(
    tmp_path: Path, cli: Runner, crontab_file: Path, isolated_env: Path
) -> None:
    root = tricky_workspace(tmp_path, cli)
    assert cli("cron", "install", "--agent", "dev-1", cwd=root).code == 0
    command, _ = cron_shell_command(stored(crontab_file).splitlines()[2])
    proc = subprocess.run(
        ["/bin/sh", "-c", command],
        env=cron_env(isolated_env),
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    log = root / ".agentctl" / "local" / "logs" / "dev-1.log"
    assert log.read_text(encoding="utf-8").strip(), "the tick wrote nothing to its log"
    agent = cli("agent", "show", "dev-1", "--json", cwd=root).json()["agent"]
    assert agent["state"].get("last_heartbeat"), agent


# -- pure parts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "offset", "window", "fields"),
    [
        (60, 0, None, "* * * * *"),
        (300, 120, None, "2,7,12,17,22,27,32,37,42,47,52,57 * * * *"),
        (1800, 600, None, "10,40 * * * *"),
        (3600, 0, None, "0 * * * *"),
        (3 * 3600, 3600 + 5 * 60, None, "5 1,4,7,10,13,16,19,22 * * *"),
        (12 * 3600, 0, "08:00-20:00", "0 12 * * *"),
        (86400, 0, None, "0 0 * * *"),
        (900, 0, "00:00-24:00", "0,15,30,45 * * * *"),
        (600, 0, "23:00-01:00", "0,10,20,30,40,50 0,23 * * *"),
    ],
)
def test_cron_fields(every: int, offset: int, window: str | None, fields: str) -> None:
    active = parse_active_hours(window) if window else None
    assert cron.cron_time(Schedule("a", every, offset, active)).fields() == fields


def _field_values(field: str, size: int) -> set[int]:
    if field == "*":
        return set(range(size))
    values: set[int] = set()
    for part in field.split(","):
        low, _, high = part.partition("-")
        values.update(range(int(low), int(high or low) + 1))
    return values


@settings(max_examples=150, deadline=None)
@given(
    every=st.sampled_from(
        [60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
    ),
    offset_min=st.integers(0, 24 * 60 - 1),
    window=st.none() | st.tuples(st.integers(0, 23), st.integers(1, 24)),
)
def test_cron_fires_exactly_at_the_schedule_slots(
    every: int, offset_min: int, window: tuple[int, int] | None
) -> None:
    """For whole-hour windows the cron fields and ``next_due`` agree on every slot of a day."""
    offset = (offset_min * 60) % every
    active = None
    if window is not None and window[0] != window[1] % 24:
        active = parse_active_hours(f"{window[0]:02d}:00-{window[1]:02d}:00")
    schedule = Schedule("a", every, offset, active)
    try:
        time = cron.cron_time(schedule)
    except ScheduleError:
        with pytest.raises(ScheduleError):
            next_times(schedule, datetime(2024, 3, 5), 1)
        return
    assert time.warnings == ()
    minutes, hours = _field_values(time.minute, 60), _field_values(time.hour, 24)
    from_cron = {(h, m) for h in hours for m in minutes}
    start = datetime(2024, 3, 4, 23, 59, 59)
    slots = [t for t in next_times(schedule, start, len(from_cron) + 1) if t.day == 5]
    assert {(t.hour, t.minute) for t in slots} == from_cron


user_lines = st.lists(
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n"), max_size=30).filter(
        lambda line: not line.startswith(("# BEGIN agentctl", "# END agentctl"))
    ),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(before=user_lines, after=user_lines)
def test_replace_and_remove_keep_every_other_byte(before: list[str], after: list[str]) -> None:
    root = Path("/srv/ws")
    block = cron.render_block(root, [])
    head = "".join(line + "\n" for line in before)
    tail = "".join(line + "\n" for line in after)
    installed = cron.replace_block(head, root, block)
    assert installed == head + block
    table = installed + tail
    assert cron.replace_block(table, root, block) == table
    new_block = block.replace("Managed", "Still managed")
    assert cron.replace_block(table, root, new_block) == head + new_block + tail
    assert cron.remove_block(table, root) == (head + tail, True)
    assert cron.remove_block(head + tail, root) == (head + tail, False)
    assert cron.read_block(table, root) == []
    assert cron.read_block(head + tail, root) is None


def test_duplicate_blocks_collapse_into_the_first() -> None:
    root = Path("/srv/ws")
    old = cron.render_block(root, [])
    table = "a\n" + old + "b\n" + old + "c\n"
    new = old.replace("Managed", "New")
    assert cron.replace_block(table, root, new) == "a\n" + new + "b\nc\n"
    assert cron.remove_block(table, root) == ("a\nb\nc\n", True)


def test_read_block_parses_agents_from_the_lines() -> None:
    root = Path("/srv/my ws")
    log = root / ".agentctl/local/logs/dev-1.log"
    command = cron.heartbeat_command(root, "dev-1", "/opt/py 3/bin/python", log, "/usr/bin:/x%y")
    entry = cron.CronEntry("dev-1", cron.CronTime("5", "*"), command, log)
    table = cron.render_block(root, [entry]) + "# not ours\n"
    table = table.replace("# END", "7 7 * * * echo hand-written\n# END")
    found = cron.read_block(table, root)
    assert found is not None
    assert [(line.agent, line.schedule) for line in found] == [
        ("dev-1", "5 * * * *"),
        (None, "7 7 * * *"),
    ]
    assert found[0].command == command
    assert "\\%" in found[0].line and "%" in command and "\\%" not in command


def test_line_breaks_in_paths_are_refused() -> None:
    with pytest.raises(ScheduleError, match="line break"):
        cron.heartbeat_command(Path("/srv/a\nb"), "dev-1", "/usr/bin/python3", Path("/x.log"), None)


def test_log_info_reads_only_the_tail(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_bytes(b"x" * 100_000 + b"\nfirst\nlast line \xff\n\n")
    info = cron.log_info(path, tail_bytes=64)
    assert info.exists and info.size == path.stat().st_size
    assert info.last_line == "last line \ufffd"
    assert cron.log_info(tmp_path / "none.log") == cron.LogInfo(tmp_path / "none.log", False)


def test_markers_name_the_workspace() -> None:
    """The markers are plain comment lines cron ignores, naming the workspace path."""
    begin, end = cron.markers(Path("/srv/ws"))
    assert (begin, end) == ("# BEGIN agentctl /srv/ws", "# END agentctl /srv/ws")
    assert (
        json.dumps(cron.block_workspaces(f"x\n{begin}\n{end}\n# BEGIN agentctl /other\r\n"))
        == '["/srv/ws", "/other"]'
    )


def test_cron_install_status_and_uninstall_as_a_library(
    team_root: Path, crontab_file: Path
) -> None:
    """heartbeat/runner: what `agentctl cron` does, callable by any front end (no CLI)."""
    from agentctl.heartbeat import runner
    from agentctl.workspace import Workspace

    ws = Workspace(team_root)
    try:
        done = runner.install_cron(ws, ["dev-1"], "15m", "1m")
        assert done.changed and [line["agent"] for line in done.lines] == ["dev-1"]
        assert runner.install_cron(ws, ["dev-1"], "15m", "1m").changed is False
        status = runner.cron_status(ws)
        assert status["installed"] and status["line_count"] == 1
        assert sorted(status["missing"]) == ["dev-2", "intern-1", "lead-1"]
        assert runner.uninstall_cron(ws) is True
        assert runner.uninstall_cron(ws) is False
        with pytest.raises(NotFoundError):
            runner.install_cron(ws, ["nobody"], None, "1m")
    finally:
        ws.close()
