"""Which machine runs which agent (docs/teams.md, "Ownership"): two clones of one bare remote,
each with its own ``AGENTCTL_HOST``, each adding and ticking its own agents.

Real git throughout: ``git clone`` of a bare repository, pushes and pulls; agentctl runs
in-process through its real error boundary with the clone's host in the environment.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    GIT_USER_EMAIL,
    Result,
    Runner,
    allow_simulated,
    assert_one_line_error,
    git,
    run_cli,
)
from test_cron import FAKE_CRONTAB

from agentctl.core.ownership import foreign_state_writer, normalise_host, runs_here
from agentctl.errors import ExitCode


class Machine:
    """One clone on one machine: agentctl runs in it with ``AGENTCTL_HOST`` = ``host``."""

    def __init__(self, root: Path, host: str) -> None:
        self.root = root
        self.host = host

    def run(self, *args: str, env: dict[str, str | None] | None = None) -> Result:
        return run_cli(
            "-W",
            str(self.root),
            *args,
            cwd=self.root,
            env={"AGENTCTL_HOST": self.host, **(env or {})},
        )

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.code == 0, str(result)
        return result

    def json(self, *args: str) -> Any:
        return self.ok(*args, "--json").json()

    def ticked(self, *args: str) -> list[str]:
        """The agents one ``heartbeat --all`` round ticked here."""
        return [run["agent"] for run in self.json("heartbeat", "--all", *args)["runs"]]

    def add_agent(self, name: str, *args: str) -> None:
        self.ok("agent", "add", name, "--role", "developer", "--runtime", "simulated", *args)

    def pull(self) -> None:
        out = git(self.root, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
        assert "CONFLICT" not in out, out
        assert git(self.root, "status", "--porcelain") == "", "a pull left changes"

    def push(self) -> None:
        git(self.root, "push", "-q", "origin", "main")

    def events(self, kind: str) -> list[dict[str, Any]]:
        found = []
        for path in sorted((self.root / ".agentctl" / "events").glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                event = json.loads(line)
                if event["type"] == kind:
                    found.append(event)
        return found

    def state(self, agent: str) -> str:
        return (self.root / ".agentctl" / "agents" / f"{agent}.state.yaml").read_text("utf-8")


def _configure(root: Path, name: str) -> None:
    git(root, "config", "user.name", name)
    git(root, "config", "user.email", GIT_USER_EMAIL)
    git(root, "config", "commit.gpgsign", "false")


@pytest.fixture
def machines(tmp_path: Path) -> tuple[Machine, Machine]:
    """A bare remote; machine ``alpha`` with a workspace (simulated agents allowed), pushed;
    machine ``beta`` a ``git clone`` of it. No agents yet."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    a_root = tmp_path / "alpha"
    a_root.mkdir()
    git(a_root, "init", "-q", "-b", "main")
    _configure(a_root, "Machine A")
    alpha = Machine(a_root, "alpha")
    alpha.ok("init")
    allow_simulated(a_root)
    git(a_root, "remote", "add", "origin", str(remote))
    git(a_root, "push", "-q", "-u", "origin", "main")
    b_root = tmp_path / "beta"
    git(tmp_path, "clone", "-q", str(remote), str(b_root))
    _configure(b_root, "Machine B")
    return alpha, Machine(b_root, "beta")


@pytest.fixture
def team(machines: tuple[Machine, Machine]) -> tuple[Machine, Machine]:
    """Each machine adds its own agent (alpha: dev-a, beta: dev-b); both clones hold both."""
    alpha, beta = machines
    alpha.add_agent("dev-a")
    alpha.push()
    beta.pull()
    beta.add_agent("dev-b")
    beta.push()
    alpha.pull()
    return alpha, beta


def _unown(machine: Machine, agent: str) -> None:
    """Make ``agent`` unowned, as a record written before hosts existed (committed)."""
    path = machine.root / ".agentctl" / "agents" / f"{agent}.md"
    text = path.read_text(encoding="utf-8")
    assert f"\nhost: {machine.host}\n" in text
    path.write_text(text.replace(f"\nhost: {machine.host}\n", "\n"), encoding="utf-8")
    git(machine.root, "commit", "-q", "-m", f"unown {agent}", "--", str(path))


# -- the host name -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, name",
    [("laptop", "laptop"), ("My_Laptop.example.com", "my-laptop"), ("build-07", "build-07"),
     ("--x--", "x"), ("", "host"), ("...", "host"), ("ünï", "n"), ("a" * 80, "a" * 64),
     ("a" * 63 + "_b", "a" * 63)],
)  # fmt: skip
def test_hostnames_become_valid_names(raw: str, name: str) -> None:
    assert normalise_host(raw) == name


def test_ownership_rules() -> None:
    assert runs_here({"host": "alpha"}, "alpha", False)
    assert not runs_here({"host": "beta"}, "alpha", True)
    assert not runs_here({}, "alpha", False) and runs_here({}, "alpha", True)
    assert foreign_state_writer({"host": "beta"}, {"host": "alpha"}) == "alpha"
    assert foreign_state_writer({"host": "beta"}, {"host": "beta"}) is None
    assert foreign_state_writer({"host": "beta"}, {}) is None  # before writers were recorded
    assert foreign_state_writer({}, {"host": "alpha"}) is None  # unowned: anyone may write


def test_host_from_env_file_and_hostname(machines: tuple[Machine, Machine]) -> None:
    alpha, _ = machines
    result = alpha.ok("host")
    assert result.out == "alpha\n" and "from $AGENTCTL_HOST" in result.err, str(result)
    no_env: dict[str, str | None] = {"AGENTCTL_HOST": None}
    derived = normalise_host(socket.gethostname())
    result = alpha.run("host", "--json", env=no_env)
    assert result.json()["host"] == derived and result.json()["source"] == "hostname"
    result = alpha.run("host", "--set", "desk-1", env=no_env)
    assert result.code == 0 and result.out == "desk-1\n", str(result)
    local = alpha.root / ".agentctl" / "local" / "host"
    assert local.read_text(encoding="utf-8") == "desk-1\n"
    # per clone, never committed: git ignores it and nothing was committed
    assert git(alpha.root, "status", "--porcelain") == ""
    assert git(alpha.root, "check-ignore", str(local)).strip()
    assert alpha.run("host", "--json", env=no_env).json() == {
        "schema_version": 1,
        "host": "desk-1",
        "source": "file",
    }
    assert alpha.ok("host").out == "alpha\n"  # the environment wins
    alpha.run("agent", "add", "mine", "--role", "x", env=no_env)
    assert alpha.json("agent", "show", "mine")["agent"]["host"] == "desk-1"
    alpha.ok("agent", "add", "theirs", "--role", "x", "--host", "beta")
    assert alpha.json("agent", "show", "theirs")["agent"]["host"] == "beta"
    assert alpha.run("host", "--unset", env=no_env).out == f"{derived}\n"
    assert not local.exists()


def test_bad_host_names_are_one_line_errors(machines: tuple[Machine, Machine]) -> None:
    alpha, _ = machines
    r = alpha.run("host", env={"AGENTCTL_HOST": "Not Valid"})
    assert_one_line_error(r, ExitCode.USAGE, "$AGENTCTL_HOST: invalid host name 'Not Valid'")
    r = alpha.run("host", "--set", "UPPER")
    assert_one_line_error(r, ExitCode.USAGE, "invalid host name 'UPPER'")
    local = alpha.root / ".agentctl" / "local" / "host"
    assert not local.exists()
    local.write_text("bad name\n", encoding="utf-8")
    r = alpha.run("host", env={"AGENTCTL_HOST": None})
    assert_one_line_error(r, ExitCode.VALIDATION, ".agentctl/local/host")
    r = alpha.run("agent", "add", "x", "--role", "y", "--host", "No")
    assert_one_line_error(r, ExitCode.USAGE, "invalid host name 'No'")


# -- each machine ticks its own agents ---------------------------------------------------------


def test_each_machine_ticks_only_its_own_agents(team: tuple[Machine, Machine]) -> None:
    alpha, beta = team
    for machine in team:
        listed = {a["name"]: a["host"] for a in machine.json("agent", "list")["agents"]}
        assert listed == {"dev-a": "alpha", "dev-b": "beta"}
    task_a = alpha.json("task", "add", "Work of A", "--assign", "dev-a")["task"]["id"]
    alpha.push()
    beta.pull()
    task_b = beta.json("task", "add", "Work of B", "--assign", "dev-b")["task"]["id"]
    for _ in range(3):
        assert alpha.ticked() == ["dev-a"]
        assert beta.ticked() == ["dev-b"]
    # the state files say who wrote them, and each machine wrote only its own
    assert "host: alpha" in alpha.state("dev-a") and "host: beta" in beta.state("dev-b")
    beta.push()
    alpha.pull()  # no conflict: no file was changed on both machines
    alpha.push()
    beta.pull()
    for machine in team:
        result = machine.ok("validate")
        assert "warning" not in result.err, str(result)
        shown = {t["id"]: t["status"] for t in machine.json("task", "list", "--all")["tasks"]}
        assert shown[task_a] != "assigned" and shown[task_b] != "assigned"  # both worked


def test_parallel_round_ticks_only_own_agents(team: tuple[Machine, Machine]) -> None:
    alpha, _ = team
    alpha.add_agent("dev-a2")
    assert alpha.ticked("--jobs", "2") == ["dev-a", "dev-a2"]


def test_unowned_agents_tick_without_remote_or_with_the_flag(
    team: tuple[Machine, Machine],
) -> None:
    alpha, beta = team
    alpha.add_agent("old")
    _unown(alpha, "old")
    assert alpha.json("agent", "show", "old")["agent"].get("host") is None
    assert alpha.ticked() == ["dev-a"]  # a remote: other machines may tick it
    assert alpha.ticked("--include-unowned") == ["dev-a", "old"]
    git(alpha.root, "remote", "remove", "origin")
    assert alpha.ticked() == ["dev-a", "old"]  # a workspace of one machine


def test_unowned_agents_tick_in_a_workspace_without_git(ws_root: Path, cli: Runner) -> None:
    allow_simulated(ws_root)
    assert cli("agent", "add", "solo", "--role", "x", "--runtime", "simulated").code == 0
    path = ws_root / ".agentctl" / "agents" / "solo.md"
    path.write_text(path.read_text("utf-8").replace("\nhost: test-host\n", "\n"), "utf-8")
    runs = cli("heartbeat", "--all", "--json").json()["runs"]
    assert [r["agent"] for r in runs] == ["solo"]
    shown = cli("agent", "show", "solo")
    assert "host:         - (unowned: any machine may tick it)" in shown.out, str(shown)


def test_no_agent_here_is_said(team: tuple[Machine, Machine]) -> None:
    alpha, _ = team
    alpha.ok("agent", "move", "dev-a", "--host", "beta")
    result = alpha.run("heartbeat", "--all")
    assert result.code == 0 and result.out == "", str(result)
    assert "no agent runs on this machine (alpha)" in result.err


# -- one named agent ---------------------------------------------------------------------------


def test_ticking_another_machines_agent_is_refused(team: tuple[Machine, Machine]) -> None:
    alpha, _ = team
    head = git(alpha.root, "rev-parse", "HEAD").strip()
    before = alpha.state("dev-b")
    r = alpha.run("heartbeat", "dev-b")
    assert_one_line_error(
        r, ExitCode.CONFLICT, "agent dev-b runs on host beta, not on this machine (alpha)"
    )
    assert "agent move dev-b --host alpha" in r.err and "--force" in r.err
    assert git(alpha.root, "rev-parse", "HEAD").strip() == head and alpha.state("dev-b") == before
    assert not (alpha.root / ".agentctl" / "local" / "runs" / "dev-b.jsonl").exists()
    assert_one_line_error(
        alpha.run("heartbeat", "--all", "--force"), ExitCode.USAGE, "--force ticks one named agent"
    )
    forced = alpha.json("heartbeat", "dev-b", "--force")
    assert forced["runs"][0]["agent"] == "dev-b"
    assert alpha.ok("heartbeat", "dev-a").code == 0  # its own: as before


def test_validate_flags_state_written_by_another_host(team: tuple[Machine, Machine]) -> None:
    alpha, beta = team
    alpha.ok("heartbeat", "dev-b", "--force")
    assert "host: alpha" in alpha.state("dev-b")
    result = alpha.ok("validate")  # a warning, not an invalid record: exit 0
    state = ".agentctl/agents/dev-b.state.yaml"
    warnings = [line for line in result.err.splitlines() if "warning" in line]
    assert len(warnings) == 1, str(result)
    assert warnings[0].startswith(f"agentctl: warning: {state}:"), str(result)
    assert "written by host alpha, but dev-b runs on host beta" in warnings[0]
    assert alpha.ok("validate", str(alpha.root / state)).err.count("written by host alpha") == 1
    # the owner's next tick writes it again, and the warning is gone
    alpha.push()
    beta.pull()
    beta.ok("heartbeat", "dev-b")
    assert "host: beta" in beta.state("dev-b")
    assert "warning" not in beta.ok("validate").err


# -- handing an agent over ---------------------------------------------------------------------


def test_agent_move_hands_an_agent_over(team: tuple[Machine, Machine]) -> None:
    alpha, beta = team
    alpha.ok("heartbeat", "dev-a")
    head = git(alpha.root, "rev-parse", "HEAD").strip()
    moved = alpha.json("agent", "move", "dev-a", "--host", "beta")
    assert moved["from"] == "alpha" and moved["to"] == "beta"
    assert moved["agent"]["host"] == "beta"
    # one mutation: one commit with the record and its state, one event
    assert git(alpha.root, "rev-list", "--count", f"{head}..HEAD").strip() == "1"
    changed = git(alpha.root, "show", "--name-only", "--format=", "HEAD").split()
    assert {".agentctl/agents/dev-a.md", ".agentctl/agents/dev-a.state.yaml"} <= set(changed)
    [event] = alpha.events("agent.moved")
    assert event["subject"] == "dev-a" and event["data"] == {"from": "alpha", "to": "beta"}
    assert "host:" not in alpha.state("dev-a")  # handed over: no writer until beta ticks it
    feed = alpha.ok("feed", "--limit", "1").out
    assert "moved agent dev-a from host alpha to beta" in feed
    assert "warning" not in alpha.ok("validate").err
    alpha.push()
    beta.pull()
    assert alpha.run("heartbeat", "dev-a").code == ExitCode.CONFLICT
    assert beta.ticked() == ["dev-a", "dev-b"]
    assert "- **dev-a** (developer, specialist)" in (beta.root / "WORKING.md").read_text("utf-8")
    assert " · runs on beta" in (beta.root / "WORKING.md").read_text("utf-8")


def test_agent_move_refusals(team: tuple[Machine, Machine]) -> None:
    alpha, _ = team
    head = git(alpha.root, "rev-parse", "HEAD").strip()
    assert_one_line_error(
        alpha.run("agent", "move", "dev-a", "--host", "alpha"),
        ExitCode.CONFLICT,
        "agent dev-a already runs on host alpha",
    )
    assert_one_line_error(
        alpha.run("agent", "move", "dev-a", "--host", "Bad Host"),
        ExitCode.USAGE,
        "invalid host name 'Bad Host'",
    )
    assert_one_line_error(
        alpha.run("agent", "move", "ghost", "--host", "beta"),
        ExitCode.NOT_FOUND,
        "no agent named 'ghost'",
    )
    assert_one_line_error(
        alpha.run("--as", "dev-b", "agent", "move", "dev-a", "--host", "beta"),
        ExitCode.PERMISSION,
        "",
    )
    r = alpha.run("agent", "edit", "dev-a", "--role", "x", env=None)
    assert r.code == 0, str(r)
    assert git(alpha.root, "rev-list", "--count", f"{head}..HEAD").strip() == "1"  # only the edit


# -- cron and run ------------------------------------------------------------------------------


@pytest.fixture
def crontab_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fake ``crontab`` of tests/test_cron.py on PATH, storing its table here."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    program = bin_dir / "crontab"
    program.write_text(FAKE_CRONTAB.format(python=sys.executable), encoding="utf-8")
    program.chmod(0o755)
    store = tmp_path / "crontab.txt"
    monkeypatch.setenv("FAKE_CRONTAB_FILE", str(store))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return store


def test_cron_install_writes_lines_for_own_agents_only(
    team: tuple[Machine, Machine], crontab_file: Path
) -> None:
    alpha, beta = team
    alpha.add_agent("old")
    _unown(alpha, "old")
    lines = alpha.json("cron", "install")["lines"]
    assert [line["agent"] for line in lines] == ["dev-a"]
    table = crontab_file.read_text(encoding="utf-8")
    assert " heartbeat dev-a " in table and "dev-b" not in table and " old " not in table
    # cron's bare environment has no $AGENTCTL_HOST: the line carries it
    assert " AGENTCTL_HOST=alpha " in lines[0]["line"]
    no_env: dict[str, str | None] = {"AGENTCTL_HOST": None}
    assert alpha.run("host", "--set", "alpha", env=no_env).code == 0
    installed = alpha.run("cron", "install", "--json", env=no_env)
    assert installed.code == 0, str(installed)
    [line] = installed.json()["lines"]  # a name set in the clone needs nothing in the line
    assert line["agent"] == "dev-a" and "AGENTCTL_HOST" not in line["line"]
    lines = alpha.json("cron", "install", "--include-unowned")["lines"]
    assert [line["agent"] for line in lines] == ["dev-a", "old"]
    assert_one_line_error(
        alpha.run("cron", "install", "--agent", "dev-b"),
        ExitCode.CONFLICT,
        "agent dev-b runs on host beta, not on this machine (alpha)",
    )
    status = alpha.json("cron", "status")
    assert status["missing"] == [], status  # dev-b runs elsewhere; old is unowned
    assert {row["agent"]: row["host"] for row in status["agents"]} == {
        "dev-a": "alpha",
        "dev-b": "beta",
        "old": None,
    }
    crontab_file.unlink()
    lines = beta.json("cron", "install")["lines"]
    assert [line["agent"] for line in lines] == ["dev-b"]


def test_cron_install_with_no_agent_here_is_not_found(
    team: tuple[Machine, Machine], crontab_file: Path
) -> None:
    alpha, _ = team
    alpha.ok("agent", "move", "dev-a", "--host", "beta")
    r = alpha.run("cron", "install")
    assert_one_line_error(r, ExitCode.NOT_FOUND, "no agent runs on this machine (alpha)")
    assert not crontab_file.exists()


def test_run_schedules_only_own_agents(team: tuple[Machine, Machine]) -> None:
    alpha, _ = team
    result = alpha.run("run", "--now", "--max-ticks", "1", "--json", "--grace", "5s")
    assert result.code == 0, str(result)
    scheduled = [line for line in result.err.splitlines() if "first tick" in line]
    assert len(scheduled) == 1 and "run: dev-a " in scheduled[0], str(result)
    ticks = [json.loads(line) for line in result.out.splitlines()]
    assert {t.get("agent") for t in ticks if t["event"] == "tick"} == {"dev-a"}
    assert_one_line_error(
        alpha.run("run", "--agents", "dev-b", "--max-ticks", "1"),
        ExitCode.CONFLICT,
        "agent dev-b runs on host beta",
    )


# -- rounds on both machines, pulling and pushing between them ---------------------------------


@pytest.mark.slow
def test_rounds_on_two_machines_tick_only_their_own_agents(team: tuple[Machine, Machine]) -> None:
    """Each machine's agents work their own tasks over several rounds of ``heartbeat --all``,
    the clones pulling and pushing between rounds: no conflict, and no agent ever ticked (run
    log) or had its state written on the other machine."""
    alpha, beta = team
    for machine, agent in ((alpha, "dev-a"), (beta, "dev-b")):
        for number in range(3):
            machine.ok("task", "add", f"Task {number} of {agent}", "--assign", agent)
        machine.pull()
        machine.push()
    alpha.pull()
    for _ in range(4):
        for machine in team:
            machine.ticked()
        for machine in team:
            machine.pull()
            machine.push()
    alpha.pull()
    for machine, own in ((alpha, "dev-a"), (beta, "dev-b")):
        runs = machine.root / ".agentctl" / "local" / "runs"
        assert sorted(p.stem for p in runs.glob("*.jsonl")) == [own]
        assert "warning" not in machine.ok("validate").err
    assert "host: alpha" in beta.state("dev-a") and "host: beta" in alpha.state("dev-b")
    tasks = alpha.json("task", "list", "--all")["tasks"]
    assert len(tasks) == 6 and all(t["status"] != "assigned" for t in tasks), tasks
