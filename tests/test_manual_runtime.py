"""No fake work: ``agent add`` without ``--runtime`` makes a ``manual`` agent whose ticks only
report the work waiting and the prompt it would be sent; simulated agents tick only where the
config says ``allow_simulated: true`` (the demo's workspace) and cost 0 tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Runner, add_task
from helpers_heartbeat import commits, edit_config, hashes, runs, tick_json

from agentctl.config import default_config_text


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """These tests check their outcome against git (a refused change leaves the repository
    as it was, commits, history): a real repository."""
    return git_ws_root


def test_agent_add_defaults_to_the_manual_runtime(ws_root: Path, cli: Runner) -> None:
    added = cli("agent", "add", "nova", "--role", "developer", "--json")
    assert added.code == 0, str(added)
    assert added.json()["agent"]["runtime"] == "manual"
    assert "runtime: manual" in (ws_root / ".agentctl" / "agents" / "nova.md").read_text(
        encoding="utf-8"
    )


def test_a_manual_tick_reports_the_work_and_prompt_and_changes_nothing(
    ws_root: Path, cli: Runner
) -> None:
    assert cli("agent", "add", "nova", "--role", "developer").code == 0
    task = add_task(
        cli, "Write the parser", "--assign", "nova", "-d", "Parse config.yaml", "--ac", "round trip"
    )
    cli("task", "comment", task, "@nova the spec is in docs/formats.md")
    before, count = hashes(ws_root), len(commits(ws_root))

    record = tick_json(cli, "nova")[0]
    assert record["outcome"] == "waiting", record
    assert record["work"]["tasks"] == 1 and record["task"] == task, record
    assert "Write the parser" in record["prompt"] and "Parse config.yaml" in record["prompt"], (
        record
    )
    assert record["tokens_in"] == record["tokens_out"] == 0 and record["cost_usd"] == 0, record
    assert hashes(ws_root) == before, "a manual tick changes no record"
    assert len(commits(ws_root)) == count

    plain = cli("heartbeat", "nova")
    assert plain.code == 0, str(plain)
    assert (
        "nova: waiting · " in plain.out
        and "1 tasks" in plain.out
        and "nothing applied" in plain.out
    ), plain.out
    assert runs(cli, "nova")[-1]["outcome"] == "waiting"
    assert cli("task", "show", task, "--json").json()["task"]["status"] == "assigned"


def test_a_manual_prompt_in_the_run_record_is_bounded(ws_root: Path, cli: Runner) -> None:
    from agentctl.heartbeat.tick import MANUAL_PROMPT_CHARS

    assert cli("agent", "add", "nova", "--role", "developer").code == 0
    add_task(cli, "Long task", "--assign", "nova", "-d", "word " * 5000)
    record = tick_json(cli, "nova")[0]
    assert len(record["prompt"]) == MANUAL_PROMPT_CHARS and record["prompt_omitted_chars"] > 0, (
        record
    )


def test_simulated_agents_are_refused_outside_the_demo(ws_root: Path, cli: Runner) -> None:
    for name in ("sim", "hand"):
        extra = ["--runtime", "simulated"] if name == "sim" else []
        assert cli("agent", "add", name, "--role", "developer", *extra).code == 0
        add_task(cli, f"work for {name}", "--assign", name, "--ac", "done")
    before, count = hashes(ws_root), len(commits(ws_root))

    single = cli("heartbeat", "sim", "--json")
    assert single.code == 5, str(single)
    record = single.json()["runs"][0]
    assert record["outcome"] == "refused" and "allow_simulated: true" in record["reason"], record
    assert "agentctl: error: agent sim: the simulated runtime is a stand-in" in single.err, (
        single.err
    )

    both = tick_json(cli, "--all", code=5)
    assert {r["agent"]: r["outcome"] for r in both} == {"hand": "waiting", "sim": "refused"}
    assert hashes(ws_root) == before and len(commits(ws_root)) == count


def test_simulated_agents_tick_with_allow_simulated_and_cost_nothing(
    ws_root: Path, cli: Runner
) -> None:
    edit_config(ws_root, "allow_simulated: false", "allow_simulated: true")
    assert cli("agent", "add", "sim", "--role", "developer", "--runtime", "simulated").code == 0
    task = add_task(cli, "work for sim", "--assign", "sim", "--ac", "done")
    record = tick_json(cli, "sim")[0]
    assert record["outcome"] == "worked" and record["applied"] >= 1, record
    assert record["tokens_in"] == record["tokens_out"] == 0 and record["cost_usd"] == 0, record
    assert cli("task", "show", task, "--json").json()["task"]["status"] == "in_progress"


def test_only_the_demo_config_allows_simulated_agents() -> None:
    assert "allow_simulated: false" in default_config_text("x")
    assert "allow_simulated: true" in default_config_text("x", allow_simulated=True)
