"""``spec expand`` on the llm runtime, against a stub OpenAI-compatible server on 127.0.0.1
(real HTTP, real litellm with ``api_base``): questions answered from a file, the expansion
checked against the schema before anything is written, and the schema validity of a corpus
of model answers (tests/fixtures/spec_answers/: good-* must be accepted, bad-* refused)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Runner, allow_simulated, snapshot
from spec_stub import Stub, serve

from agentctl.errors import ExitCode, RuntimeFailure

CORPUS = Path(__file__).parent / "fixtures" / "spec_answers"
MODEL = "openai/stub-spec-writer"
QUESTIONS = {
    "questions": ["Which clients are limited, and by what key?", "What is the default limit?"]
}


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stub]:
    """Answers the questions step with QUESTIONS, every other request with the next queued
    answer (the last one again for a repair turn)."""
    yield from serve(monkeypatch, Stub(canned={"Before writing the spec": json.dumps(QUESTIONS)}))


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


def corpus(kind: str) -> list[Path]:
    return sorted(CORPUS.glob(f"{kind}-*.txt"))


def test_expand_with_questions_from_a_file_then_plan_work_to_done_and_drift(
    llm_ws: Path, stub: Stub, cli: Runner, tmp_path: Path
) -> None:
    spec_id = cli("spec", "new", "Rate limiting for the API", "--json").json()["spec"]["id"]
    answers = tmp_path / "answers.yaml"
    answers.write_text("- Each API key\n- 100 requests per minute\n", encoding="utf-8")
    stub.answers.append((CORPUS / "good-fenced.txt").read_text(encoding="utf-8"))
    result = cli(
        "spec", "expand", spec_id, "--runtime", "llm", "--model", MODEL, "--answers", str(answers)
    )
    assert result.code == 0, str(result)
    assert "4 requirements, 2 milestones" in result.out and "(2 questions answered)" in result.out
    questions_prompt, expand_prompt = stub.prompts
    assert '"questions"' in questions_prompt and "JSON Schema" in questions_prompt
    assert "A: 100 requests per minute" in expand_prompt and '"requirements"' in expand_prompt
    shown = cli("spec", "show", spec_id, "--json").json()["spec"]
    assert [r["id"] for r in shown["requirements"]] == ["R1", "R2", "R3", "R4"]
    assert "Answered: What is the default limit? — 100 requests per minute" in shown["body"]
    plan = cli("spec", "plan", spec_id, "--json")
    assert plan.code == 0 and plan.json()["report"]["created"] == 6, str(plan)

    # the acceptance path: the planned spec is dispatched and worked to done by the
    # demo's simulated team; every requirement is covered and done; editing R2 is drift
    from agentctl import demo_roadmap
    from agentctl.workspace import Workspace

    allow_simulated(llm_ws)
    said: list[str] = []
    ws = Workspace(llm_ws)
    try:
        demo_roadmap.work(ws, said.append, None)
        status = ws.spec_status(spec_id)
    finally:
        ws.close()
    assert any("dispatch: " in line for line in said), said
    assert status["uncovered"] == [] and status["done"] == 4, status
    assert all(t["status"] == "done" for r in status["requirements"] for t in r["tasks"])
    path = llm_ws / ".agentctl" / "specs" / f"{spec_id}.md"
    text = path.read_text(encoding="utf-8")
    assert "Refuse requests over the limit" in text
    path.write_text(text.replace("Refuse requests over the limit", "Refuse requests above the limit"), encoding="utf-8")  # fmt: skip
    check = cli("spec", "check", "--json")
    assert check.code == ExitCode.CONFLICT, str(check)
    (drift,) = check.json()["check"]["drift"]
    assert "R2 was edited" in drift["problems"][0], drift


def test_an_invalid_answer_writes_nothing(llm_ws: Path, stub: Stub, cli: Runner) -> None:
    spec_id = cli("spec", "new", "Rate limiting for the API", "--json").json()["spec"]["id"]
    before = snapshot(llm_ws)
    stub.answers.append((CORPUS / "bad-requirement-without-id.txt").read_text(encoding="utf-8"))
    result = cli("spec", "expand", spec_id, "--runtime", "llm", "--model", MODEL, "--no-questions")
    assert result.code == ExitCode.RUNTIME, str(result)
    assert result.err.startswith("agentctl: error: the model's answer does not match the schema (")
    assert "requirements.0" in result.err.splitlines()[0] and "nothing was written" in result.err
    assert snapshot(llm_ws) == before
    assert len(stub.prompts) == 2  # --no-questions: no questions step; one repair turn
    assert "Do not ask questions" in stub.prompts[0]
    # the repair turn tells the model what was wrong, in the words of the error
    assert stub.prompts[1].startswith("Your answer could not be used as it was:")
    assert "requirements.0" in stub.prompts[1]


def test_a_repair_turn_turns_an_invalid_answer_into_a_spec(
    llm_ws: Path, stub: Stub, cli: Runner
) -> None:
    spec_id = cli("spec", "new", "Rate limiting for the API", "--json").json()["spec"]["id"]
    stub.answers.append((CORPUS / "bad-requirement-without-id.txt").read_text(encoding="utf-8"))
    stub.answers.append(extract_good())
    result = cli("spec", "expand", spec_id, "--runtime", "llm", "--model", MODEL, "--no-questions")
    assert result.code == 0, str(result)
    assert len(stub.prompts) == 2 and "requirements.0" in stub.prompts[1]
    shown = cli("spec", "show", spec_id, "--json").json()
    assert "R1" in json.dumps(shown)


def test_no_repair_turn_when_repair_turns_is_0(llm_ws: Path, stub: Stub, cli: Runner) -> None:
    config = llm_ws / ".agentctl" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert "  repair_turns: 1 " in text
    config.write_text(text.replace("  repair_turns: 1 ", "  repair_turns: 0 ", 1), encoding="utf-8")
    spec_id = cli("spec", "new", "Rate limiting for the API", "--json").json()["spec"]["id"]
    stub.answers.append((CORPUS / "bad-requirement-without-id.txt").read_text(encoding="utf-8"))
    result = cli("spec", "expand", spec_id, "--runtime", "llm", "--model", MODEL, "--no-questions")
    assert result.code == ExitCode.RUNTIME, str(result)
    assert len(stub.prompts) == 1


def extract_good() -> str:
    """A good answer of the corpus as plain JSON (its first one, fences and prose removed)."""
    from agentctl.core.actions import extract_json

    text = (CORPUS / "good-plain.txt").read_text(encoding="utf-8")
    return json.dumps(extract_json(text, lambda v: isinstance(v, dict)))


def test_schema_validity_over_the_recorded_corpus(llm_ws: Path, stub: Stub) -> None:
    """Every answer of the corpus through the llm runtime (HTTP, litellm, JSON extraction,
    the generated schema check): the good ones all match, the bad ones all fail."""
    from agentctl.workspace import Workspace
    from agentctl.workspace.spec_expand import SpecRuntime

    ws = Workspace(llm_ws)
    human = ws.actor()
    spec_id = ws.new_spec(human, "Rate limiting for the API")["id"]
    accepted: dict[str, bool] = {}
    reasons: dict[str, str] = {}
    try:
        for path in corpus("good") + corpus("bad"):
            stub.answers.append(path.read_text(encoding="utf-8"))
            try:
                ws.expand_spec(
                    human, spec_id, SpecRuntime("llm", MODEL), no_questions=True, force=True
                )
                accepted[path.stem] = True
            except RuntimeFailure as exc:
                accepted[path.stem] = False
                reasons[path.stem] = exc.message
    finally:
        ws.close()
    good = [name for name in accepted if name.startswith("good-")]
    bad = [name for name in accepted if name.startswith("bad-")]
    assert len(good) >= 20 and len(bad) >= 10
    rate = sum(accepted[name] for name in good) / len(good)
    print(f"schema validity: {rate:.0%} of {len(good)} good answers, "
          f"{sum(not accepted[n] for n in bad)}/{len(bad)} bad answers refused")  # fmt: skip
    assert rate >= 0.95, {n: reasons.get(n) for n in good if not accepted[n]}
    assert [n for n in bad if accepted[n]] == []
    assert all("\n" not in reason for reason in reasons.values())
