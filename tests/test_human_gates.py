"""Human approval gates: transitions that only a person may perform.

``workflow.human_gates`` names a transition and the tasks it covers (priorities, labels); an
agent attempting it is refused with exit 7 naming the gate, the refusal is recorded for the
humans (``agentctl inbox --human``, WORKING.md "Needs a human"), and a person finishes it with
``agentctl approve`` / ``agentctl reject``. The heartbeat path gets the same refusal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Runner, add_task
from helpers_heartbeat import answer_agent

GATES = """\
  human_gates:
    - name: release sign-off
      transition: review->done
      priority: [p0]
      labels: [release]
    - transition: "*->in_progress"
      labels: [frozen]
"""


def configure(root: Path, gates: str = GATES) -> None:
    config = root / ".agentctl" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert "  human_gates: []\n" in text  # the template's (empty) list
    config.write_text(text.replace("  human_gates: []\n", gates, 1), encoding="utf-8")


@pytest.fixture
def gated(tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace without git: rev-1 reviews, dev-1 implements, lead-1 leads; gates on."""
    root = tmp_path / "ws"
    root.mkdir()
    monkeypatch.chdir(root)
    assert cli("init").code == 0
    for name, level, caps in (
        ("lead-1", "lead", ()),
        ("dev-1", "specialist", ()),
        ("rev-1", "specialist", ("review",)),
    ):
        args = ["agent", "add", name, "--role", "worker", "--level", level]
        for cap in caps:
            args += ["--capability", cap]
        assert cli(*args).code == 0
    configure(root)
    return root


def in_review(cli: Runner, title: str, *options: str) -> str:
    task_id = add_task(cli, title, "--assign", "dev-1", *options)
    for status in ("in_progress", "review"):
        assert cli("task", "move", task_id, status).code == 0
    return task_id


def status(cli: Runner, task_id: str) -> str:
    return str(cli("task", "show", task_id, "--json").json()["task"]["status"])


def human_inbox(cli: Runner) -> dict[str, list[dict[str, object]]]:
    result = cli("inbox", "--human", "--json")
    assert result.code == 0, str(result)
    return result.json()["human"]  # type: ignore[no-any-return]


def test_an_agent_is_refused_at_a_gate_naming_it(gated: Path, cli: Runner) -> None:
    p0 = in_review(cli, "urgent fix", "--priority", "p0")
    release = in_review(cli, "cut 1.0", "--label", "release", "--priority", "3")
    plain = in_review(cli, "ordinary work")
    for task_id in (p0, release):
        for agent in ("rev-1", "lead-1"):
            result = cli("--as", agent, "task", "move", task_id, "done")
            assert result.code == 7, str(result)
            assert "human gate 'release sign-off'" in result.err, str(result)
            assert "review -> done" in result.err and "agentctl approve" in result.err, str(result)
        assert status(cli, task_id) == "review"
    # the gate covers only review -> done of those tasks: sending back and other work pass
    assert cli("--as", "rev-1", "task", "move", p0, "in_progress").code == 0
    assert cli("--as", "rev-1", "task", "move", plain, "done").code == 0
    # a person is never stopped by a gate
    assert cli("task", "move", release, "done").code == 0


def test_a_wildcard_gate_also_stops_claims(gated: Path, cli: Runner) -> None:
    frozen = add_task(cli, "frozen module", "--label", "frozen")
    result = cli("--as", "dev-1", "task", "claim", frozen)
    assert result.code == 7, str(result)
    assert "human gate '* -> in_progress (labels: frozen)'" in result.err, str(result)
    assert status(cli, frozen) == "inbox"
    assert (
        cli("--as", "dev-1", "task", "assign", frozen, "dev-1").code == 0
    )  # inbox -> assigned is not gated
    assert cli("--as", "dev-1", "task", "move", frozen, "in_progress").code == 7
    assert cli("task", "claim", frozen).code == 0  # the human


def test_inbox_human_lists_waiting_tasks_and_refusals(gated: Path, cli: Runner) -> None:
    assert human_inbox(cli) == {"waiting": [], "refusals": [], "attention": [], "agents": []}
    p0 = in_review(cli, "urgent fix", "--priority", "0")
    in_review(cli, "ordinary work")
    [waiting] = human_inbox(cli)["waiting"]
    assert waiting["id"] == p0 and waiting["gate"] == "release sign-off" and waiting["to"] == "done"
    for _ in range(3):  # a refusal repeated with nothing changed in between is recorded once
        assert cli("--as", "rev-1", "task", "move", p0, "done").code == 7
    inbox = human_inbox(cli)
    [refusal] = inbox["refusals"]
    assert (
        refusal["task"] == p0
        and refusal["actor"] == "rev-1"
        and refusal["gate"] == "release sign-off"
    )
    assert (refusal["from"], refusal["to"]) == ("review", "done")
    plain = cli("inbox", "--human")
    assert (
        plain.code == 0
        and p0 in plain.out
        and "rev-1" in plain.out
        and "release sign-off" in plain.out
    ), str(plain)
    events = cli("feed", "--type", "task.gate_refused", "--json").json()["events"]
    assert len(events) == 1 and events[0]["actor"] == "rev-1"
    # approving resolves both
    approved = cli("approve", p0, "--note", "checked the rollout plan", "--json")
    assert approved.code == 0, str(approved)
    assert approved.json()["task"]["status"] == "done"
    assert human_inbox(cli) == {"waiting": [], "refusals": [], "attention": [], "agents": []}
    assert cli("inbox", "--human", "--agent", "rev-1").code == 2


def test_working_md_has_a_bounded_needs_a_human_section(gated: Path, cli: Runner) -> None:
    working = gated / "WORKING.md"
    config = gated / ".agentctl" / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("max_per_status: 15", "max_per_status: 3"),
        encoding="utf-8",
    )
    ids = [in_review(cli, f"release step {n}", "--label", "release") for n in range(5)]
    assert cli("--as", "rev-1", "task", "move", ids[0], "done").code == 7
    text = working.read_text(encoding="utf-8")
    section = text.split("## Needs a human\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(lines) <= 3 + 3, section  # waiting capped, refusals capped, each with "+N more"
    assert "- … +2 more" in section, section
    assert "agentctl approve" in section
    assert f"rev-1 was refused review -> done on {ids[0]}" in section, section
    # task lines there are not placements: `working apply` ignores the section
    assert cli("working", "apply").code in (0, 2)
    assert all(status(cli, task_id) == "review" for task_id in ids)
    for task_id in ids:
        assert cli("approve", task_id).code == 0
    section = (
        working.read_text(encoding="utf-8").split("## Needs a human\n", 1)[1].split("\n## ", 1)[0]
    )
    assert "_Nothing waits for a person._" in section


def test_no_section_without_gates(tmp_path: Path, cli: Runner) -> None:
    assert cli("init", cwd=tmp_path).code == 0
    assert "Needs a human" not in (tmp_path / "WORKING.md").read_text(encoding="utf-8")
    assert cli("inbox", "--human", "--json", cwd=tmp_path).json()["human"] == {
        "waiting": [],
        "refusals": [],
        "attention": [],
        "agents": [],
    }


def test_reject_sends_it_back_with_the_note(gated: Path, cli: Runner) -> None:
    p0 = in_review(cli, "urgent fix", "--priority", "p0")
    result = cli("reject", p0, "--note", "the rollback is missing")
    assert result.code == 0, str(result)
    assert status(cli, p0) == "in_progress"
    [message] = cli("thread", p0, "--json").json()["thread"]["messages"]
    assert message["kind"] == "review" and "the rollback is missing" in message["body"]
    assert "the rollback is missing" in cli("task", "show", p0, "--json").json()["task"]["notes"]
    refused = cli("--as", "lead-1", "reject", p0, "--note", "x")
    assert refused.code == 7 and "only a human may reject" in refused.err


@pytest.mark.parametrize(
    ("gates", "problem"),
    [
        (
            "  human_gates:\n    - transition: review->nowhere\n",
            "workflow.human_gates.0.transition: unknown status 'nowhere'",
        ),
        ('  human_gates:\n    - transition: "review done"\n', "workflow.human_gates.0.transition"),
        (
            "  human_gates:\n    - transition: inbox->done\n",
            "inbox -> done is not a transition of the workflow",
        ),
        (
            "  human_gates:\n    - transition: review->done\n      priority: [9]\n",
            "workflow.human_gates.0.priority.0",
        ),
        (
            "  human_gates:\n    - transition: review->done\n      colour: red\n",
            "workflow.human_gates.0.colour",
        ),
        ("  human_gates:\n    - labels: [release]\n", "workflow.human_gates.0.transition"),
    ],
)
def test_a_bad_gate_is_a_config_error(
    tmp_path: Path, cli: Runner, gates: str, problem: str
) -> None:
    assert cli("init", cwd=tmp_path).code == 0
    configure(tmp_path, gates)
    result = cli("task", "list", cwd=tmp_path)
    assert result.code == 6, str(result)
    assert ".agentctl/config.yaml" in result.err and problem in result.err, str(result)
    assert "Traceback" not in result.err


def test_the_heartbeat_gets_the_same_refusals(gated: Path, cli: Runner) -> None:
    """An agent's answer that approves a gated task, or moves its own work straight to done, is
    rejected like any other action and reported on the task."""
    scripts = gated.parent / "scripts"
    answer_agent(cli, "bot-rev", scripts, capabilities=("review",))
    answer_agent(cli, "bot-dev", scripts)
    gated_task = in_review(cli, "release it", "--label", "release")
    own = add_task(cli, "bot-dev's work", "--assign", "bot-dev")
    assert cli("--as", "bot-dev", "task", "claim", own).code == 0
    (scripts / "bot-rev.answer").write_text(json.dumps({"actions": [
        {"type": "set_status", "task": gated_task, "status": "done"}]}), encoding="utf-8")  # fmt: skip
    (scripts / "bot-dev.answer").write_text(json.dumps({"actions": [
        {"type": "set_status", "task": own, "status": "done"}]}), encoding="utf-8")  # fmt: skip
    for name, task_id, reason in (
        ("bot-rev", gated_task, "human gate 'release sign-off'"),
        ("bot-dev", own, "without review"),
    ):
        ran = cli("heartbeat", name, "--json")
        assert ran.code == 0, str(ran)
        [record] = ran.json()["runs"]
        assert record["applied"] == 0 and record["rejected"] == 1, record
        assert reason in record["rejections"][0]["reason"], record
        notes = [
            m["body"]
            for m in cli("thread", task_id, "--json").json()["thread"]["messages"]
            if m["author"] == "agentctl"
        ]
        assert (
            len(notes) == 1
            and notes[0].startswith(f"Rejected {name}'s action set_status(")
            and reason in notes[0]
        ), notes
    assert status(cli, gated_task) == "review" and status(cli, own) == "in_progress"
    [refusal] = human_inbox(cli)["refusals"]
    assert refusal["actor"] == "bot-rev" and refusal["task"] == gated_task


def test_an_agent_cannot_edit_a_task_out_of_a_gate(gated: Path, cli: Runner) -> None:
    both = in_review(cli, "cut 1.0", "--label", "release", "--priority", "p0")
    # still covered by its priority: the label may go, and labels may be added
    assert (
        cli(
            "--as", "dev-1", "task", "edit", both, "--remove-label", "release", "--label", "extra"
        ).code
        == 0
    )
    result = cli("--as", "dev-1", "task", "edit", both, "--priority", "p1")
    assert result.code == 7, str(result)
    assert (
        "may not change the priority or labels of" in result.err
        and "'release sign-off' no longer covers it" in result.err
    )
    release = in_review(cli, "cut 1.1", "--label", "release", "--priority", "p3")
    result = cli("--as", "lead-1", "task", "edit", release, "--remove-label", "release")
    assert result.code == 7 and "no longer covers it" in result.err, str(result)
    assert cli("task", "show", release, "--json").json()["task"]["labels"] == ["release"]
    assert cli("task", "edit", release, "--remove-label", "release").code == 0  # a person may
