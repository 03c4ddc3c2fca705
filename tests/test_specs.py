"""``agentctl spec``: a spec record written out by a runtime, planned into tasks (idempotent,
linked by ``spec: s-…#R<n>`` with the requirement's hash), tracked (status) and checked for
drift (check, validate); bad input refused in one line with nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, make_team, run_refused

from agentctl.core import spec as specs
from agentctl.errors import ExitCode

IDEA = "Rate limiting for the API"


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """Refusals are proven to change nothing in git too (run_refused): a real repository."""
    return git_ws_root


def new_spec(cli: Runner, title: str = IDEA, *options: str) -> str:
    result = cli("spec", "new", title, *options, "--json")
    assert result.code == 0, str(result)
    spec_id: str = result.json()["spec"]["id"]
    return spec_id


def expanded(cli: Runner, title: str = IDEA) -> str:
    spec_id = new_spec(cli, title)
    result = cli("spec", "expand", spec_id, "--no-questions")
    assert result.code == 0, str(result)
    return spec_id


def spec_path(root: Path, spec_id: str) -> Path:
    return root / ".agentctl" / "specs" / f"{spec_id}.md"


def linked_tasks(cli: Runner) -> dict[str, dict[str, Any]]:
    """Tasks by their spec anchor (R1, M1 ...)."""
    result = cli("task", "list", "--all", "--json")
    assert result.code == 0, str(result)
    return {t["spec"].split("#")[1]: t for t in result.json()["tasks"] if t.get("spec")}


def front_matter(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("---")[1]


# -- the record and its commands ------------------------------------------------------------


def test_new_list_show_edit_rm(ws_root: Path, cli: Runner) -> None:
    spec_id = new_spec(cli)
    assert spec_id.startswith("s-") and len(spec_id) == 14
    text = spec_path(ws_root, spec_id).read_text(encoding="utf-8")
    assert f"id: {spec_id}\ntitle: {IDEA}\nstatus: draft\n" in text
    for section in specs.SECTIONS:
        assert f"\n## {section}\n" in text
    listed = cli("spec", "list", "--json").json()["specs"]
    assert [(s["id"], s["status"], s["requirements"]) for s in listed] == [(spec_id, "draft", 0)]
    shown = cli("spec", "show", spec_id[:6])
    assert shown.code == 0 and shown.out.startswith(f"{spec_id}  {IDEA}\n"), str(shown)
    body = "# Limits\n\n## Requirements\n\n- **R1**: Clients over the limit get HTTP 429\n"
    result = cli("spec", "edit", spec_id, "--title", "Rate limits", "--file", "-", input=body)
    assert result.code == 0, str(result)
    data = cli("spec", "show", spec_id, "--json").json()["spec"]
    assert data["title"] == "Rate limits" and data["body"] == body
    assert [r["id"] for r in data["requirements"]] == ["R1"]
    assert cli("spec", "rm", spec_id).code == 0
    assert not spec_path(ws_root, spec_id).exists()
    assert cli("spec", "list").out == "no specs\n"
    types = [json.loads(line)["type"] for f in sorted((ws_root / ".agentctl" / "events").glob("*.jsonl"))
             for line in f.read_text(encoding="utf-8").splitlines()]  # fmt: skip
    assert [t for t in types if t.startswith("spec.")] == [
        "spec.created",
        "spec.edited",
        "spec.removed",
    ]


def test_new_from_a_file_and_bad_input(ws_root: Path, cli: Runner, tmp_path: Path) -> None:
    source = tmp_path / "idea.md"
    source.write_text(
        "---\nx: 1\n---\n# Idea\n\n## Requirements\n\n- R1: one thing\n", encoding="utf-8"
    )
    spec_id = new_spec(cli, "From a file", "--from", str(source))
    assert (
        spec_path(ws_root, spec_id)
        .read_text(encoding="utf-8")
        .endswith("---\n# Idea\n\n## Requirements\n\n- R1: one thing\n")
    )
    run_refused(cli, ws_root, ExitCode.USAGE, ("spec", "new", "two\nlines"), "title")
    run_refused(
        cli,
        ws_root,
        ExitCode.USAGE,
        ("spec", "new", "x", "--from", str(tmp_path / "none")),
        "no such file",
    )
    run_refused(cli, ws_root, ExitCode.NOT_FOUND, ("spec", "show", "s-zzzz"), "no spec matches")
    run_refused(cli, ws_root, ExitCode.USAGE, ("spec", "show", "../../etc"), "not a valid spec ID")


def test_an_agent_may_not_edit_someone_elses_spec(ws_root: Path, cli: Runner) -> None:
    make_team(cli, cwd=ws_root)
    spec_id = new_spec(cli)
    run_refused(cli, ws_root, ExitCode.PERMISSION, ("--as", "dev-1", "spec", "edit", spec_id, "--title", "x"),
                "may not edit a spec written by")  # fmt: skip
    assert cli("--as", "lead-1", "spec", "edit", spec_id, "--title", "by the lead").code == 0


# -- expand ---------------------------------------------------------------------------------


def test_simulated_expand_records_assumptions_without_questions(ws_root: Path, cli: Runner) -> None:
    spec_id = expanded(cli)
    data = cli("spec", "show", spec_id, "--json").json()["spec"]
    assert data["status"] == "expanded"
    assert [r["id"] for r in data["requirements"]] == ["R1", "R2", "R3", "R4", "R5"]
    assert data["requirements"][1]["depends_on"] == ["R1"]
    assert "Assumed without asking" in data["body"]
    assert "## Open questions\n\n## Assumptions" in data["body"]  # nothing left open
    # the same idea always gives the same spec
    again = expanded(cli)
    assert cli("spec", "show", again, "--json").json()["spec"]["body"] == data["body"]


def test_expand_with_answers_from_a_file(ws_root: Path, cli: Runner, tmp_path: Path) -> None:
    spec_id = new_spec(cli)
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "Who uses rate limiting for the API, and what do they need from it first?: partners\n"
        "2: 100 requests per minute per API key\n",
        encoding="utf-8",
    )
    result = cli("spec", "expand", spec_id, "--answers", str(answers), "--json")
    assert result.code == 0, str(result)
    assert [a["answer"] for a in result.json()["answered"]] == [
        "partners",
        "100 requests per minute per API key",
    ]
    body = cli("spec", "show", spec_id, "--json").json()["spec"]["body"]
    assert "respecting: 100 requests per minute per API key" in body
    assert "For partners." in body
    open_questions = specs.parse(body).sections[specs.QUESTIONS]
    assert open_questions.count("\n- ") == 1  # two of the four were answered


def test_expand_refuses_to_overwrite_requirements(ws_root: Path, cli: Runner) -> None:
    spec_id = expanded(cli)
    run_refused(
        cli,
        ws_root,
        ExitCode.CONFLICT,
        ("spec", "expand", spec_id, "--no-questions"),
        "already has requirements",
    )
    assert cli("spec", "expand", spec_id, "--no-questions", "--force").code == 0


def test_an_invalid_answer_from_a_command_runtime_writes_nothing(
    ws_root: Path, cli: Runner, tmp_path: Path
) -> None:
    """A real subprocess answers JSON missing the requirements' IDs: exit 11, one line,
    naming the field; nothing written."""
    script = tmp_path / "writer.py"
    script.write_text(
        "import json, sys\nprompt = sys.stdin.read()\n"
        "if 'Before writing the spec' in prompt:\n    print(json.dumps({'questions': []}))\n"
        "else:\n    print('Here is the spec:\\n```json\\n' + json.dumps({'summary': 's', 'requirements': [{'text': 'no id'}]}) + '\\n```')\n",
        encoding="utf-8",
    )
    import sys

    result = cli("agent", "add", "writer", "--role", "writer", "--level", "lead", "--runtime", "command",
                 "--command", f"{sys.executable} {script}")  # fmt: skip
    assert result.code == 0, str(result)
    spec_id = new_spec(cli)
    run_refused(cli, ws_root, ExitCode.RUNTIME, ("spec", "expand", spec_id, "--agent", "writer"),
                "does not match the schema", "requirements.0")  # fmt: skip


# -- plan -------------------------------------------------------------------------------------


def test_plan_makes_linked_tasks_and_replanning_updates(ws_root: Path, cli: Runner) -> None:
    spec_id = expanded(cli)
    dry = cli("spec", "plan", spec_id, "--dry-run", "--json")
    assert dry.code == 0 and dry.json()["report"]["created"] == 7, str(dry)
    assert linked_tasks(cli) == {}
    result = cli("spec", "plan", spec_id)
    assert result.code == 0 and "Planned: 7 created" in result.out, str(result)
    tasks = linked_tasks(cli)
    assert sorted(tasks) == ["M1", "M2", "R1", "R2", "R3", "R4", "R5"]
    assert tasks["R2"]["source"] == f"{spec_id}#R2"
    assert tasks["R2"]["depends_on"] == [tasks["R1"]["id"]]
    assert tasks["R2"]["parent"] == tasks["M1"]["id"] and tasks["R4"]["parent"] == tasks["M2"]["id"]
    assert tasks["R2"]["estimate"] == "4h" and tasks["R2"]["labels"] == ["backend"]
    parsed = specs.parse(cli("spec", "show", spec_id, "--json").json()["spec"]["body"])
    task_file = ws_root / ".agentctl" / "tasks" / f"{tasks['R2']['id']}.md"
    assert f"spec_hash: {parsed.anchors()['R2']}\n" in front_matter(task_file)
    shown = cli("task", "show", tasks["R2"]["id"], "--json").json()["task"]
    assert [c["text"] for c in shown["acceptance_criteria"]] == [
        "R2: rate limiting for the API works for the main case"
    ]
    again = cli("spec", "plan", spec_id, "--json").json()["report"]
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 7)
    # a new requirement is added, an edited one updated (title and hash), none duplicated
    path = spec_path(ws_root, spec_id)
    text = (
        path.read_text(encoding="utf-8")
        .replace("- **R5**:", "- **R6**: Log every refused request (estimate: 1h)\n- **R5**:")
        .replace("Implement the core of", "Build the core of")
    )
    cli("spec", "edit", spec_id, "--file", "-", input=text.split("---\n", 2)[2])
    report = cli("spec", "plan", spec_id, "--json").json()["report"]
    assert (report["created"], report["updated"]) == (1, 1)
    tasks = linked_tasks(cli)
    assert len(tasks) == 8 and tasks["R2"]["title"].startswith("R2: Build the core of")


def test_plan_refuses_a_spec_without_requirements_or_with_duplicate_ids(
    ws_root: Path, cli: Runner
) -> None:
    spec_id = new_spec(cli)
    run_refused(cli, ws_root, ExitCode.USAGE, ("spec", "plan", spec_id), "has no requirements")
    body = "## Requirements\n\n- R1: one\n- R1: again\n"
    assert cli("spec", "edit", spec_id, "--file", "-", input=body).code == 0
    run_refused(
        cli, ws_root, ExitCode.VALIDATION, ("spec", "plan", spec_id), "R1 is already used on line 3"
    )


# -- status, check, validate --------------------------------------------------------------------


def test_status_flags_requirements_without_tasks(ws_root: Path, cli: Runner) -> None:
    spec_id = expanded(cli)
    status = cli("spec", "status", spec_id, "--json").json()["status"]
    assert status["uncovered"] == ["R1", "R2", "R3", "R4", "R5"]
    cli("spec", "plan", spec_id)
    status = cli("spec", "status", spec_id, "--json").json()["status"]
    assert status["uncovered"] == [] and all(r["covered"] for r in status["requirements"])
    assert [t["status"] for r in status["requirements"] for t in r["tasks"]] == ["inbox"] * 5
    text = cli("spec", "status", spec_id).out
    assert "5/5 requirements have tasks, 0/5 done" in text


def test_editing_r2_makes_check_flag_its_task_and_notify(ws_root: Path, cli: Runner) -> None:
    make_team(cli, cwd=ws_root)
    spec_id = expanded(cli)
    cli("spec", "plan", spec_id)
    tasks = linked_tasks(cli)
    assert cli("task", "assign", tasks["R2"]["id"], "dev-1").code == 0
    clean = cli("spec", "check")
    assert clean.code == 0 and clean.out == "no drift in 1 spec(s)\n", str(clean)
    path = spec_path(ws_root, spec_id)
    path.write_text(
        path.read_text(encoding="utf-8").replace("Implement the core", "Implement all"),
        encoding="utf-8",
    )
    result = cli("spec", "check", spec_id, "--json")
    assert result.code == ExitCode.CONFLICT, str(result)
    drift = result.json()["check"]["drift"]
    assert [d["tasks"] for d in drift] == [[tasks["R2"]["id"]]]
    assert "R2 was edited after the task was planned" in drift[0]["problems"][0]
    assert result.json()["check"]["notified"] == ["dev-1"]
    inbox = cli("--as", "dev-1", "inbox", "--json").json()
    assert any(n["type"] == "spec.drift" for n in inbox["inbox"]["notifications"]), inbox
    # the same drift is reported again but not notified twice
    again = cli("spec", "check", "--json")
    assert again.code == ExitCode.CONFLICT and again.json()["check"]["notified"] == []
    # re-planning takes the new text: the drift is gone
    cli("spec", "plan", spec_id)
    assert cli("spec", "check").code == 0


def test_removed_requirement_and_bad_links(ws_root: Path, cli: Runner) -> None:
    spec_id = expanded(cli)
    cli("spec", "plan", spec_id)
    tasks = linked_tasks(cli)
    path = spec_path(ws_root, spec_id)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        "\n".join(line for line in text.split("\n") if "**R5**" not in line), encoding="utf-8"
    )
    drift = cli("spec", "check", "--json").json()["check"]["drift"]
    assert any("links to R5, which" in p for d in drift for p in d["problems"]), drift
    other = cli("task", "add", "free text link", "--json").json()["task"]["id"]
    task_file = ws_root / ".agentctl" / "tasks" / f"{other}.md"
    task_file.write_text(
        task_file.read_text(encoding="utf-8").replace("status:", "spec: see the wiki\nstatus:", 1),
        encoding="utf-8",
    )
    result = cli("validate")
    assert result.code == ExitCode.VALIDATION, str(result)
    assert (
        f"tasks/{tasks['R5']['id']}.md:" in result.out and f"names no R5 in {spec_id}" in result.out
    )
    assert "spec: 'see the wiki' is not a link like s-4k7q2m9x3bce#R3" in result.out


def test_validate_checks_spec_files(ws_root: Path, cli: Runner) -> None:
    spec_id = new_spec(cli)
    path = spec_path(ws_root, spec_id)
    path.write_text(
        path.read_text(encoding="utf-8").replace("status: draft", "status: done"), encoding="utf-8"
    )
    result = cli("validate")
    assert result.code == ExitCode.VALIDATION and f"specs/{spec_id}.md" in result.out, str(result)
    listed = cli("spec", "list")
    assert listed.code == 0 and "skipped; run 'agentctl validate'" in listed.err


# -- parsing ------------------------------------------------------------------------------------


def test_parse_headings_items_fields_and_continuations() -> None:
    body = (
        "# X\n\n## Requirements\n\n### R2: Token bucket per key\n\nRefill every second. (estimate: 2 d)\n\n"
        "* R7 — Return Retry-After\n  on every 429 (depends on R2) (labels: Backend, api)\n"
        "- not a requirement\n- **R9** bad (estimate: soon)\n\n```\n- R8: in code\n```\n"
        "## Milestones\n\n- M1: MVP (R2, R7)\n\n## Acceptance criteria\n\n- [ ] R7: header set\n"
    )
    parsed = specs.parse(body)
    assert [(r.id, r.title, r.estimate, r.depends_on, r.labels) for r in parsed.requirements] == [
        ("R2", "Token bucket per key Refill every second.", "2d", (), ()),
        ("R7", "Return Retry-After on every 429", None, ("R2",), ("backend", "api")),
        ("R9", "bad", None, (), ()),
    ]
    assert parsed.milestones[0].requirements == ("R2", "R7")
    assert parsed.acceptance == ["R7: header set"]
    assert parsed.problems == ["line 12: estimate 'soon' is not a duration like 4h or 2d"]
    rewrapped = body.replace("Token bucket per key\n\nRefill", "Token bucket per key\n\nRefill")
    assert specs.parse(rewrapped).anchors() == parsed.anchors()


@pytest.mark.parametrize(
    ("link", "expected"),
    [("s-0123456789ab#R3", ("s-0123456789ab", "R3")), ("s-0123456789ab#M1", ("s-0123456789ab", "M1")),
     ("s-0123456789ab", None), ("s-0123456789ab#R0", None), ("doc#R1", None)],
)  # fmt: skip
def test_split_link(link: str, expected: tuple[str, str] | None) -> None:
    assert specs.split_link(link) == expected


# -- the acceptance flow ---------------------------------------------------------------------------


def test_idea_to_done_then_drift(tmp_path: Path, cli: Runner) -> None:
    """spec new -> expand (simulated) -> plan -> dispatch -> the simulated team works it to done;
    every requirement covered and done; editing R2 makes spec check flag its task."""
    from agentctl import demo_roadmap

    said: list[str] = []
    root = tmp_path / "demo"
    ws = demo_roadmap.build_spec(root, IDEA, said.append, git=False)
    try:
        spec_id = ws.list_specs()[0]["id"]
        status = ws.spec_status(spec_id)
    finally:
        ws.close()
    assert any(line.startswith("all 7 tasks done after") for line in said), said
    assert any("dispatch: " in line for line in said), said
    assert status["uncovered"] == [] and status["done"] == 5
    assert all(t["status"] == "done" for r in status["requirements"] for t in r["tasks"])
    path = spec_path(root, spec_id)
    path.write_text(
        path.read_text(encoding="utf-8").replace("Implement the core", "Implement all"),
        encoding="utf-8",
    )
    result = cli("spec", "check", "--json", cwd=root)
    assert result.code == ExitCode.CONFLICT, str(result)
    (drift,) = result.json()["check"]["drift"]
    assert len(drift["tasks"]) == 1 and "R2 was edited" in drift["problems"][0]
    assert result.json()["check"]["notified"]  # the agent that did R2


def test_demo_spec_cli_refuses_both_sources(cli: Runner, tmp_path: Path) -> None:
    result = cli("demo", "--dir", str(tmp_path / "d"), "--spec", IDEA, "--roadmap", "x.md")
    assert result.code == ExitCode.USAGE and "give one of" in result.err, str(result)


def test_spec_commands_import_nothing_heavy(ws_root: Path, cli: Runner, tmp_path: Path) -> None:
    """Reads and writes (the simulated expand included) never import litellm, textual or git,
    nor pydantic: the generated validators check specs and expansions."""
    from test_import_hygiene import imported

    spec_id = new_spec(cli)
    for args in (("spec", "new", "another idea"), ("spec", "expand", spec_id, "--no-questions"),
                 ("spec", "plan", spec_id), ("spec", "list"), ("spec", "show", spec_id),
                 ("spec", "status", spec_id), ("spec", "check"), ("spec", "edit", spec_id, "--title", "x")):  # fmt: skip
        code, modules, err = imported(ws_root, tmp_path, *args)
        assert code == 0, f"{args}: {err}"
        assert not modules & {"litellm", "textual", "git", "pydantic"}, f"{args}: {sorted(modules)}"


def test_questions_are_asked_on_a_terminal(ws_root: Path, cli: Runner) -> None:
    """On a terminal (a real pty) each question is asked in turn; Enter skips one."""
    import os
    import pty
    import subprocess
    import sys
    import time

    spec_id = new_spec(cli)
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "agentctl", "spec", "expand", spec_id],
                            stdin=terminal, stdout=terminal, stderr=terminal, cwd=ws_root, close_fds=True)  # fmt: skip
    os.close(terminal)
    os.write(controller, b"partners\n\n250 per minute\n\n")
    seen = b""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            seen += os.read(controller, 4096)
        except OSError:
            break
    proc.wait(timeout=60)
    os.close(controller)
    text = seen.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "4 clarifying questions" in text and "1. Who uses rate limiting" in text, text
    assert "(2 questions answered)" in text, text
    body = cli("spec", "show", spec_id, "--json").json()["spec"]["body"]
    assert "For partners." in body and "respecting" not in body
    assert "Answered: What must rate limiting for the API never do? — 250 per minute" in body


def test_a_hand_made_spec_is_adopted_by_doctor(ws_root: Path, cli: Runner) -> None:
    spec_id = "s-0123456789ab"
    spec_path(ws_root, spec_id).write_text(
        f"---\nid: {spec_id}\ntitle: By hand\nauthor: tester\ncreated_at: '2026-01-01T00:00:00Z'\n"
        "updated_at: '2026-01-01T00:00:00Z'\n---\n## Requirements\n\n- R1: one\n",
        encoding="utf-8",
    )
    validated = cli("validate")
    assert f"specs/{spec_id}.md: no event created this spec" in validated.out + validated.err, str(
        validated
    )
    assert cli("doctor").code == 0
    assert cli("spec", "plan", spec_id).code == 0
