"""``spec plan --llm``: a runtime breaks a spec's prose down into tasks (JSON matching
``models.SpecTaskPlan``), cross-checked (anchors, references, cycles, titles) before anything
is written, then applied like the deterministic plan (``spec: s-…#R<n>``, ``spec_hash``,
idempotent). The simulated runtime end to end through the CLI; the llm runtime against a stub
OpenAI-compatible server on 127.0.0.1 (real HTTP, real litellm with ``api_base``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, run_refused, snapshot
from spec_stub import Stub, serve

from agentctl.core import spec as specs
from agentctl.core import spec_tasks
from agentctl.errors import ExitCode

IDEA = "Rate limiting for the API"
MODEL = "openai/stub-spec-planner"
GOOD: dict[str, Any] = {
    "tasks": [
        {"id": "T1", "title": "Write the rate limit design note", "requirement": "R1",
         "description": "Who is limited, by which key, and what they get back.",
         "acceptance": ["The note is reviewed by the team"], "estimate": "2h", "labels": ["design"]},
        {"id": "T2", "title": "Token bucket per API key", "requirement": "R2", "estimate": "4h",
         "labels": ["backend"], "depends_on": ["T1"]},
        {"id": "T3", "title": "Return 429 with Retry-After", "requirement": "R2", "estimate": "2h",
         "depends_on": ["T2"]},
        {"id": "T4", "title": "Limits in config.yaml with safe defaults", "requirement": "R3",
         "depends_on": ["T2"]},
        {"id": "T5", "title": "Load test the limiter", "requirement": "R4", "labels": ["testing"],
         "depends_on": ["T3", "T4"]},
    ]
}  # fmt: skip


def answer(**changes: Any) -> dict[str, Any]:
    """GOOD with task fields changed: ``T2={"requirement": "R9"}``."""
    value: dict[str, Any] = json.loads(json.dumps(GOOD))
    for task in value["tasks"]:
        task.update(changes.get(task["id"], {}))
    return value


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stub]:
    yield from serve(monkeypatch, Stub())


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """Refusals are proven to change nothing in git too (run_refused): a real repository."""
    return git_ws_root


@pytest.fixture
def llm_ws(ws_root: Path, stub: Stub) -> Path:
    """The workspace's llm settings point at the stub (no cache: every call reaches it)."""
    config = ws_root / ".agentctl" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("  api_base: null", f"  api_base: {stub.base}", 1)
    text = text.replace("  cache: true", "  cache: false", 1).replace(
        "  retries: 2", "  retries: 0", 1
    )
    config.write_text(text, encoding="utf-8")
    return ws_root


def expanded(cli: Runner) -> str:
    """A spec written out by the simulated runtime: R1-R5, M1 (R1-R3), M2 (R4, R5)."""
    result = cli("spec", "new", IDEA, "--json")
    assert result.code == 0, str(result)
    spec_id: str = result.json()["spec"]["id"]
    result = cli("spec", "expand", spec_id, "--no-questions")
    assert result.code == 0, str(result)
    return spec_id


def spec_tasks_by_source(cli: Runner, spec_id: str) -> dict[str, dict[str, Any]]:
    """The tasks planned from ``spec_id``, by the key of their source (after the '#')."""
    result = cli("task", "list", "--all", "--json")
    assert result.code == 0, str(result)
    prefix = f"{spec_id}#"
    return {
        t["source"].removeprefix(prefix): t
        for t in result.json()["tasks"]
        if (t.get("source") or "").startswith(prefix)
    }


def anchors(cli: Runner, spec_id: str) -> dict[str, str]:
    return specs.parse(cli("spec", "show", spec_id, "--json").json()["spec"]["body"]).anchors()


def front_matter(root: Path, task_id: str) -> str:
    return (root / ".agentctl" / "tasks" / f"{task_id}.md").read_text(encoding="utf-8")


# -- the simulated runtime, end to end through the CLI -----------------------------------------


def test_simulated_llm_plan_end_to_end(ws_root: Path, cli: Runner) -> None:
    spec_id = expanded(cli)
    before = snapshot(ws_root)
    dry = cli("spec", "plan", spec_id, "--llm", "--dry-run", "--json")
    assert dry.code == 0, str(dry)
    assert dry.json()["report"]["created"] == 12 and snapshot(ws_root) == before
    result = cli("spec", "plan", spec_id, "--llm")
    assert result.code == 0, str(result)
    assert "Planned: 12 created" in result.out and "+ Build R2  [inbox]  4h" in result.out
    tasks = spec_tasks_by_source(cli, spec_id)  # keyed by requirement and title
    assert sorted(tasks) == sorted(
        ["M1", "M2"] + [f"R{n}/{step}-r{n}" for n in range(1, 6) for step in ("build", "verify")]
    ), sorted(tasks)
    build, verify = tasks["R2/build-r2"], tasks["R2/verify-r2"]
    assert build["spec"] == f"{spec_id}#R2" and verify["spec"] == f"{spec_id}#R2"
    assert f"spec_hash: {anchors(cli, spec_id)['R2']}\n" in front_matter(ws_root, build["id"])
    assert build["depends_on"] == [tasks["R1/build-r1"]["id"]]  # R2 depends on R1 in the spec
    assert verify["depends_on"] == [build["id"]]
    assert (
        build["parent"] == tasks["M1"]["id"] and tasks["R5/build-r5"]["parent"] == tasks["M2"]["id"]
    )
    assert build["estimate"] == "4h" and build["labels"] == ["backend"]
    shown = cli("task", "show", build["id"], "--json").json()["task"]
    assert [c["text"] for c in shown["acceptance_criteria"]] == [
        "R2: rate limiting for the API works for the main case"
    ]
    status = cli("spec", "status", spec_id, "--json").json()["status"]
    assert status["uncovered"] == [] and len(status["requirements"][1]["tasks"]) == 2
    again = cli("spec", "plan", spec_id, "--llm", "--json")
    assert again.code == 0, str(again)
    report = again.json()["report"]
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 12)
    assert len(spec_tasks_by_source(cli, spec_id)) == 12


def test_drift_and_replanning_after_an_edit(ws_root: Path, cli: Runner) -> None:
    """Editing R2 flags both its tasks in ``spec check``; planning again stores the new hash
    and text (the tasks are updated, not duplicated) and the drift is gone."""
    spec_id = expanded(cli)
    assert cli("spec", "plan", spec_id, "--llm").code == 0
    assert cli("spec", "check", spec_id).code == 0
    path = ws_root / ".agentctl" / "specs" / f"{spec_id}.md"
    body = path.read_text(encoding="utf-8").split("---\n", 2)[2]
    edited = body.replace("Implement the core of", "Implement the heart of")
    assert edited != body and cli("spec", "edit", spec_id, "--file", "-", input=edited).code == 0
    check = cli("spec", "check", spec_id, "--json")
    assert check.code == ExitCode.CONFLICT, str(check)
    assert len(check.json()["check"]["drift"][0]["tasks"]) == 2  # Build R2 and Verify R2
    report = cli("spec", "plan", spec_id, "--llm", "--json").json()["report"]
    assert (report["created"], report["updated"], report["vanished"]) == (0, 2, []), report
    assert cli("spec", "check", spec_id).code == 0
    tasks = spec_tasks_by_source(cli, spec_id)
    shown = cli("task", "show", tasks["R2/build-r2"]["id"], "--json").json()["task"]
    assert "Implement the heart of" in shown["description"]


def test_switching_planners_lists_the_other_planners_tasks(ws_root: Path, cli: Runner) -> None:
    spec_id = expanded(cli)
    assert cli("spec", "plan", spec_id).code == 0  # the deterministic plan: R1-R5, M1, M2
    report = cli("spec", "plan", spec_id, "--llm", "--json").json()["report"]
    assert report["created"] == 10 and report["unchanged"] == 2  # the milestones are shared
    vanished = sorted(v["source"].split("#")[1] for v in report["vanished"])
    assert vanished == ["R1", "R2", "R3", "R4", "R5"]
    assert len(spec_tasks_by_source(cli, spec_id)) == 17  # listed, never deleted


def test_simulated_llm_plan_imports_nothing_heavy(
    ws_root: Path, cli: Runner, tmp_path: Path
) -> None:
    from test_import_hygiene import imported

    spec_id = expanded(cli)
    for args in (
        ("spec", "plan", spec_id, "--llm", "--dry-run"),
        ("spec", "plan", spec_id, "--llm"),
    ):
        code, modules, err = imported(ws_root, tmp_path, *args)
        assert code == 0, f"{args}: {err}"
        assert not modules & {"litellm", "textual", "git", "pydantic"}, f"{args}: {sorted(modules)}"


def test_runtime_options_need_llm(ws_root: Path, cli: Runner) -> None:
    spec_id = expanded(cli)
    for option in (("--runtime", "llm"), ("--model", MODEL), ("--agent", "lead-1")):
        run_refused(cli, ws_root, ExitCode.USAGE, ("spec", "plan", spec_id, *option), "--llm")
    run_refused(
        cli, ws_root, ExitCode.USAGE, ("spec", "plan", spec_id, "--llm", "--runtime", "manual"),
        "simulated, llm or command",
    )  # fmt: skip


def test_llm_plan_refuses_a_spec_without_requirements(ws_root: Path, cli: Runner) -> None:
    spec_id = cli("spec", "new", IDEA, "--json").json()["spec"]["id"]
    run_refused(
        cli, ws_root, ExitCode.USAGE, ("spec", "plan", spec_id, "--llm"), "has no requirements"
    )


def test_a_command_agent_plans_the_spec(ws_root: Path, cli: Runner, tmp_path: Path) -> None:
    """A real subprocess reads the prompt on stdin and answers (in prose and a fence) one task
    per requirement the prompt lists, each after the one before."""
    import sys

    script = tmp_path / "planner.py"
    script.write_text(
        "import json, re, sys\n"
        "listed = sys.stdin.read().split('Its requirements')[1].split('Break the spec down')[0]\n"
        "found = re.findall(r'^- (R[0-9]+): (.*)$', listed, re.M)\n"
        "tasks = [{'id': f'T{n}', 'title': f'Do {text}', 'requirement': anchor,\n"
        "          'depends_on': [f'T{n - 1}'] if n > 1 else []}\n"
        "         for n, (anchor, text) in enumerate(found, 1)]\n"
        "print('Plan:\\n```json\\n' + json.dumps({'tasks': tasks}) + '\\n```')\n",
        encoding="utf-8",
    )
    result = cli("agent", "add", "planner", "--role", "lead", "--level", "lead", "--runtime", "command",
                 "--command", f"{sys.executable} {script}")  # fmt: skip
    assert result.code == 0, str(result)
    spec_id = expanded(cli)
    result = cli("spec", "plan", spec_id, "--llm", "--agent", "planner", "--json")
    assert result.code == 0, str(result)
    report = result.json()["report"]
    assert report["runtime"] == "command" and report["created"] == 7 and report["problems"] == []
    tasks = spec_tasks_by_source(cli, spec_id)
    r5 = tasks["R5/do-document-rate-limiting-for-the-api-for-its-users"]
    assert r5["depends_on"] == [
        tasks["R4/do-cover-rate-limiting-for-the-api-with-automated-tests"]["id"]
    ]
    assert r5["spec"] == f"{spec_id}#R5"


# -- the llm runtime against the stub server --------------------------------------------------


def test_llm_plan_writes_checked_tasks_and_replanning_is_idempotent(
    llm_ws: Path, stub: Stub, cli: Runner
) -> None:
    spec_id = expanded(cli)
    stub.answers.append("Here is the plan:\n```json\n" + json.dumps(GOOD) + "\n```\n")
    result = cli("spec", "plan", spec_id, "--llm", "--runtime", "llm", "--model", MODEL)
    assert result.code == 0, str(result)
    assert "Planned: 7 created" in result.out, str(result)
    assert "warning: R5 has no task in the plan" in result.err, str(result)
    (prompt,) = stub.prompts
    assert "- R2: Implement the core of rate limiting for the API" in prompt
    assert "JSON Schema" in prompt and '"requirement"' in prompt
    assert stub.bodies[0]["model"] == "stub-spec-planner"
    tasks = spec_tasks_by_source(cli, spec_id)
    assert sorted(tasks) == [
        "M1", "M2", "R1/write-the-rate-limit-design-note", "R2/return-429-with-retry-after",
        "R2/token-bucket-per-api-key", "R3/limits-in-config-yaml-with-safe-defaults",
        "R4/load-test-the-limiter",
    ]  # fmt: skip
    bucket = tasks["R2/token-bucket-per-api-key"]
    assert bucket["spec"] == f"{spec_id}#R2" and bucket["title"] == "Token bucket per API key"
    assert f"spec_hash: {anchors(cli, spec_id)['R2']}\n" in front_matter(llm_ws, bucket["id"])
    assert bucket["depends_on"] == [tasks["R1/write-the-rate-limit-design-note"]["id"]]
    load = tasks["R4/load-test-the-limiter"]
    assert sorted(load["depends_on"]) == sorted(
        [tasks["R2/return-429-with-retry-after"]["id"], tasks["R3/limits-in-config-yaml-with-safe-defaults"]["id"]]
    )  # fmt: skip
    assert load["parent"] == tasks["M2"]["id"] and bucket["parent"] == tasks["M1"]["id"]
    note = cli("task", "show", tasks["R1/write-the-rate-limit-design-note"]["id"], "--json")
    shown = note.json()["task"]
    assert [c["text"] for c in shown["acceptance_criteria"]] == ["The note is reviewed by the team"]
    assert "Who is limited, by which key" in shown["description"]
    status = cli("spec", "status", spec_id, "--json").json()["status"]
    assert status["uncovered"] == ["R5"]
    # the same answer again (other local references, other order): nothing changes
    shuffled = {"tasks": list(reversed(answer()["tasks"]))}
    for n, task in enumerate(shuffled["tasks"]):
        task["id"] = f"T{n + 10}"
    renumber = {f"T{5 - n}": f"T{n + 10}" for n in range(5)}
    for task in shuffled["tasks"]:
        task["depends_on"] = [renumber[d] for d in task.get("depends_on", [])]
    stub.answers.append(json.dumps(shuffled))
    again = cli("spec", "plan", spec_id, "--llm", "--runtime", "llm", "--model", MODEL, "--json")
    assert again.code == 0, str(again)
    assert "Tasks planned from this spec before" not in stub.prompts[0]
    assert '- "Token bucket per API key" (R2)\n' in stub.prompts[1]
    report = again.json()["report"]
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 7), report
    # a renamed task is a new task; the old one is listed as no longer planned, never deleted
    stub.answers.append(json.dumps(answer(T5={"title": "Load test the limiter at 2x peak"})))
    renamed = cli("spec", "plan", spec_id, "--llm", "--runtime", "llm", "--model", MODEL, "--json")
    report = renamed.json()["report"]
    assert report["created"] == 1 and [v["id"] for v in report["vanished"]] == [load["id"]]
    assert len(spec_tasks_by_source(cli, spec_id)) == 8


def test_a_repair_turn_fixes_an_unknown_anchor(llm_ws: Path, stub: Stub, cli: Runner) -> None:
    spec_id = expanded(cli)
    stub.answers += [json.dumps(answer(T4={"requirement": "R9"})), json.dumps(GOOD)]
    result = cli("spec", "plan", spec_id, "--llm", "--runtime", "llm", "--model", MODEL)
    assert result.code == 0, str(result)
    assert len(stub.prompts) == 2
    assert stub.prompts[1].startswith("Your answer could not be used as it was:")
    assert "tasks.3.requirement: R9 is not a requirement of the spec" in stub.prompts[1]
    assert len(spec_tasks_by_source(cli, spec_id)) == 7


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        (answer(T1={"depends_on": ["T5"]}), "tasks.0.depends_on: T1 -> T5 -> T3 -> T2 -> T1 is a loop"),
        (answer(T3={"depends_on": ["T7"]}), "tasks.2.depends_on: T7 names no task of the answer"),
        (answer(T3={"title": "token bucket per API key!"}), "tasks.2.title: the same title as tasks.1"),
        (answer(T2={"requirement": "M1"}), "tasks.1.requirement: invalid value 'M1'"),
        (answer(T2={"estimate": "soon"}), "tasks.1.estimate: invalid duration 'soon'"),
        ({"tasks": []}, "tasks: must be 1-100 items long"),
    ],
)  # fmt: skip
def test_an_invalid_answer_writes_nothing(
    llm_ws: Path, stub: Stub, cli: Runner, bad: dict[str, Any], needle: str
) -> None:
    spec_id = expanded(cli)
    stub.answers.append(json.dumps(bad))  # and again in the repair turn
    result = run_refused(
        cli, llm_ws, ExitCode.RUNTIME,
        ("spec", "plan", spec_id, "--llm", "--runtime", "llm", "--model", MODEL), needle,
    )  # fmt: skip
    assert result.err.startswith("agentctl: error: the model's answer does not match the schema (")
    assert "after 2 answers: nothing was written" in result.err.splitlines()[0]
    assert len(stub.prompts) == 2 and needle in stub.prompts[1]


def _shapes() -> tuple[dict[str, str], dict[str, str]]:
    """Answers in the shapes models give (good ones must be written, bad ones refused)."""
    plain = json.dumps(GOOD)
    minimal = {
        "tasks": [{"id": f"T{n}", "title": f"Step {n}", "requirement": f"R{n}"} for n in (1, 2)]
    }
    nulls = answer(T1={"description": None, "estimate": None})
    unicode = answer(T1={"title": "Entwurf: Ratenbegrenzung — Schlüssel je Kunde ✓"})
    multiline = answer(T1={"description": "First line.\n\n- a point\n- another"})
    good = {
        "plain": plain,
        "pretty": json.dumps(GOOD, indent=2),
        "fenced": f"```json\n{plain}\n```",
        "fenced-bare": f"```\n{plain}\n```",
        "prose": f"Sure! Here is the plan:\n{plain}\nGood luck.",
        "crlf": json.dumps(GOOD, indent=1).replace("\n", "\r\n"),
        "minimal": json.dumps(minimal),
        "nulls": json.dumps(nulls),
        "unicode": json.dumps(unicode, ensure_ascii=False),
        "multiline-description": json.dumps(multiline),
        "bare-list": "Tasks:\n" + json.dumps(GOOD["tasks"]),  # read as {"tasks": [...]}
    }
    bad = {
        "prose-only": "I would start with the design.",
        "truncated": plain[: len(plain) // 2], "integer-id": json.dumps(answer(T1={"id": 1})),
        "integer-requirement": json.dumps(answer(T1={"requirement": 1})),
        "free-form-id": json.dumps(answer(T2={"id": "task-2"})), "unknown-field": json.dumps(answer(T1={"priority": "high"})),
        "duplicate-id": json.dumps(answer(T2={"id": "T1"})), "unknown-anchor": json.dumps(answer(T3={"requirement": "R12"})),
        "unknown-dependency": json.dumps(answer(T3={"depends_on": ["T9"]})),
        "loop": json.dumps(answer(T1={"depends_on": ["T3"]})), "same-title": json.dumps(answer(T3={"title": "Token bucket per API key"})),
        "multi-line-title": json.dumps(answer(T1={"title": "Design\nnote"})), "no-tasks": json.dumps({"tasks": []}),
    }  # fmt: skip
    return good, bad


def test_answer_shapes_through_the_llm_runtime(llm_ws: Path, stub: Stub) -> None:
    """Every shape through the llm runtime (HTTP, litellm, JSON extraction, the generated
    check, the cross-checks), dry runs: the good ones all plan, the bad ones are all refused
    in one line (after the repair turn, which gets the same answer again)."""
    from agentctl.errors import RuntimeFailure
    from agentctl.workspace import Workspace
    from agentctl.workspace.spec_expand import SpecRuntime

    good, bad = _shapes()
    ws = Workspace(llm_ws)
    human = ws.actor()
    spec_id = ws.new_spec(human, IDEA)["id"]
    ws.expand_spec(human, spec_id, SpecRuntime("simulated"), no_questions=True)
    planned: dict[str, bool] = {}
    reasons: dict[str, str] = {}
    try:
        for name, text in [
            *(("good-" + k, v) for k, v in good.items()),
            *(("bad-" + k, v) for k, v in bad.items()),
        ]:
            stub.answers.append(text)
            try:
                report = ws.plan_spec_llm(human, spec_id, SpecRuntime("llm", MODEL), dry_run=True)
                planned[name] = report["created"] > 0
            except RuntimeFailure as exc:
                planned[name] = False
                reasons[name] = exc.message
    finally:
        ws.close()
    accepted = [n for n in planned if n.startswith("good-") and planned[n]]
    refused = [n for n in planned if n.startswith("bad-") and not planned[n]]
    print(
        f"plan answers: {len(accepted)}/{len(good)} good ones planned, {len(refused)}/{len(bad)} bad ones refused"
    )
    assert len(accepted) == len(good), {n: reasons.get(n) for n in planned if n.startswith("good-")}
    assert len(refused) == len(bad), [n for n in planned if n.startswith("bad-") and planned[n]]
    assert all(
        "\n" not in reason and "nothing was written" in reason for reason in reasons.values()
    )


def test_llm_dry_run_writes_nothing(llm_ws: Path, stub: Stub, cli: Runner) -> None:
    spec_id = expanded(cli)
    before = snapshot(llm_ws)
    stub.answers.append(json.dumps(GOOD))
    result = cli(
        "spec", "plan", spec_id, "--llm", "--runtime", "llm", "--model", MODEL, "--dry-run", "--json"
    )  # fmt: skip
    assert result.code == 0, str(result)
    report = result.json()["report"]
    assert report["dry_run"] and report["created"] == 7 and report["runtime"] == "llm"
    assert snapshot(llm_ws) == before
    assert spec_tasks_by_source(cli, spec_id) == {}


def test_a_spec_edited_while_the_model_ran_is_not_planned(
    llm_ws: Path, stub: Stub, cli: Runner
) -> None:
    """The model call runs before the lock: a spec edited meanwhile is refused (exit 5), not
    planned with the hashes of text it no longer has."""
    spec_id = expanded(cli)
    path = llm_ws / ".agentctl" / "specs" / f"{spec_id}.md"

    def edit() -> None:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("Implement the core", "Build the core"), encoding="utf-8")

    stub.hook = edit
    stub.answers.append(json.dumps(GOOD))
    result = cli("spec", "plan", spec_id, "--llm", "--runtime", "llm", "--model", MODEL)
    assert result.code == ExitCode.CONFLICT, str(result)
    assert "changed while the runtime was planning it: nothing written" in result.err
    assert spec_tasks_by_source(cli, spec_id) == {}


# -- the cross-checks, pure ------------------------------------------------------------------


KNOWN = {"R1", "R2", "R3", "R4", "R5"}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (answer(T4={"requirement": "R9"}), "tasks.3.requirement: R9 is not a requirement of the spec (it has R1-R5)"),
        (answer(T2={"id": "T1"}), "tasks.1.id: T1 is the id of tasks.0 too"),
        (answer(T3={"depends_on": ["T3"]}), "tasks.2.depends_on: T3 is the task itself"),
        (answer(T3={"depends_on": ["T8"]}), "tasks.2.depends_on: T8 names no task of the answer"),
        (answer(T1={"depends_on": ["T2"]}), "tasks.0.depends_on: T1 -> T2 -> T1 is a loop (a task cannot wait for itself)"),
        (answer(T4={"title": "Token  bucket per API-key"}), "tasks.3.title: the same title as tasks.1 (titles must differ in their first 60 letters and digits, case aside)"),
        (answer(T2={"description": "a\x1b[31mred"}), "tasks.1.description: contains a control character (U+001B ESC)"),
    ],
)  # fmt: skip
def test_cross_checks_name_the_problem(value: dict[str, Any], problem: str) -> None:
    from agentctl.core import record_checks

    record_checks.check_spec_task_plan(json.loads(json.dumps(value)), "answer")  # schema: fine
    assert spec_tasks.check_task_plan(value, KNOWN)[0] == problem


def test_a_good_answer_has_no_problems_and_stable_keys() -> None:
    assert spec_tasks.check_task_plan(GOOD, KNOWN) == []
    assert (
        spec_tasks.task_key("R2", "Return 429 (with Retry-After)!")
        == "R2/return-429-with-retry-after"
    )
    assert spec_tasks.task_key("R1", "Ünïcode — titles") == "R1/ünïcode-titles"
    assert spec_tasks.task_key("R1", "???") == "R1/task"
    assert len(spec_tasks.task_key("R1", "word " * 40)) <= 3 + spec_tasks.MAX_SLUG


def test_the_simulated_answer_is_deterministic_and_checks() -> None:
    from agentctl.core import record_checks

    parsed = specs.parse(
        specs.render(IDEA, specs.simulated_expansion(IDEA, None, no_questions=True))
    )
    first = spec_tasks.simulated_task_plan(parsed)
    assert first == spec_tasks.simulated_task_plan(parsed)
    record_checks.check_spec_task_plan(json.loads(json.dumps(first)), "answer")
    assert spec_tasks.check_task_plan(first, {r.id for r in parsed.requirements}) == []
    assert [t["title"][:9] for t in first["tasks"][:2]] == ["Build R1", "Verify R1"]
