"""The roadmap parser (store/roadmap*.py): markdown in, a plan of items out, on the reference
roadmap and on roadmaps written in the shapes real teams use. Pure: no workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentctl.errors import UsageError
from agentctl.store import roadmap
from agentctl.store import roadmap_fields as rf
from agentctl.store.roadmap_plan import Item, Plan

FIXTURES = Path(__file__).parent / "fixtures" / "roadmaps"


def load(name: str) -> Plan:
    path = FIXTURES / name
    text, repaired = roadmap.decode(path.read_bytes(), name)
    return roadmap.parse(text, name, repaired)


def parse(text: str, name: str = "r.md") -> Plan:
    decoded, repaired = roadmap.decode(text.encode("utf-8"), name)
    return roadmap.parse(decoded, name, repaired)


def find(plan: Plan, title: str) -> Item:
    matches = [
        item for item in plan.walk() if item.title == title or item.title.startswith(title + " ")
    ]
    assert len(matches) == 1, f"{title!r}: {[m.title for m in matches]}"
    return matches[0]


def titles(items: list[Item]) -> list[str]:
    return [item.title for item in items]


def deps(item: Item) -> list[str]:
    return [dep.label for dep in item.deps]


# -- the reference roadmap --------------------------------------------------------------------------


def test_reference_phases_and_numbered_sections_form_a_tree() -> None:
    plan = load("mission-control-roadmap.md")
    assert titles(plan.items) == ["Mission Control - Development Roadmap"]
    root = plan.items[0]
    phases = [c for c in root.children if c.word == "phase"]
    assert [p.number for p in phases] == ["0", "1", "2", "3", "4", "5"]
    assert [c.number for c in phases[0].children] == ["0.1", "0.2", "0.3"]
    assert [c.number for c in phases[3].children] == ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6"]
    assert all(item.kind == "section" for item in phases)
    assert plan.unresolved == [] and plan.cycles == []


def test_reference_dependencies_estimates_labels_and_criteria() -> None:
    plan = load("mission-control-roadmap.md")
    s11 = find(plan, "1.1 FastAPI Application Setup")
    assert deps(s11) == ["0.1", "0.2", "0.3"]
    assert s11.estimate == "8h-10h"
    assert s11.labels == ["backend-developer"]
    assert find(plan, "0.2 Database Schema Design").labels == ["architect", "technical"]
    assert find(plan, "2.3 Agent Orchestration Logic").labels == [
        "backend-developer",
        "ai-specialist",
    ]
    assert deps(find(plan, "3.2 Command Center Dashboard")) == ["3.1", "1.3"]
    assert deps(find(plan, "5.1 Integration Testing")) == [
        "Phase 0",
        "Phase 1",
        "Phase 2",
        "Phase 3",
        "Phase 4",
    ]
    assert find(plan, "0.1 Project Structure Setup").deps == []  # "Dependencies: None"
    # Deliverables and Acceptance Criteria are the section's criteria, not tasks; a ✅ bullet
    # is a style, not a result.
    criteria = [c.text for c in s11.criteria]
    assert criteria[0] == "`backend/main.py` with FastAPI app"
    assert "Health check returns 200" in criteria and len(criteria) == 10
    assert not any(c.done for c in s11.criteria)
    # The "Tasks:" list is its subtasks, which inherit the agent type.
    assert titles(s11.children)[:2] == [
        "Create FastAPI application with proper structure",
        "Implement dependency injection",
    ]
    assert all(
        child.labels == ["backend-developer"] and child.kind == "task" for child in s11.children
    )
    # The code block under "Core Schema:" is description, not tasks.
    assert "# Agents Table" in "\n".join(find(plan, "0.2 Database Schema Design").description)


def test_reference_notes_sections_are_reported_not_imported() -> None:
    plan = load("mission-control-roadmap.md")
    reasons = {(i.line, i.reason) for i in plan.ignored}
    assert (
        10,
        "notes section (not work): its content is not imported",
    ) in reasons  # Strategic Overview
    assert (1341, "notes section (not work): its content is not imported") in reasons  # Conclusion
    assert (8, "horizontal rule") in reasons
    assert any(i.reason == "examples, not work" and i.line == 1332 for i in plan.ignored)
    assert not any("Example" in item.title or "Issue #1" in item.title for item in plan.walk())
    success = plan.items[0].criteria  # Success Metrics: criteria of the whole roadmap
    assert [c.text for c in success][:2] == [
        "Database with all tables created",
        "API endpoints returning data",
    ]
    counts = plan.counts()
    assert counts["section"] == 39 and counts["dependencies"] == 44 and counts["unresolved"] == 0


# -- the shapes teams write -------------------------------------------------------------------------


def test_checklist_by_week() -> None:
    plan = load("checklist-weeks.md")
    root = plan.items[0]
    assert titles(root.children) == [
        "Week 1 (Jan 6–10)",
        "Week 2 — Accounts & auth",
        "Week 3: Invoices",
        "Week 4",
        "Week 5 – Hardening",
    ]
    week1, week2, week3, week4, week5 = root.children
    assert week1.status == rf.DONE and all(c.status == rf.DONE for c in week1.children)
    assert find(plan, "Set up repo + CI pipeline").estimate == "2h"
    spike = find(plan, "Pick a payments provider (spike)")
    assert spike.estimate == "3h"  # "(spike, ~3 hrs)": the estimate out, the word kept
    assert deps(week2) == ["Week 1"] and deps(week5) == ["Week 3", "Week 4"]
    login = find(plan, "Signup / login page")
    assert login.status == rf.DONE and login.owners == ["dana"]
    reset = find(plan, "Password reset flow")
    assert reset.estimate == "4h-6h" and reset.status == rf.TODO
    assert [(c.title, c.status) for c in reset.children] == [
        ("email template", rf.DONE),
        ("rate limit reset requests", rf.TODO),
    ]
    assert deps(find(plan, "Session expiry")) == ["Signup / login page"]
    assert deps(find(plan, "Invoice emails")) == ["Invoice data model"]
    assert find(plan, "PDF rendering").priority == 1
    assert "invoice_id | customer" in "\n".join(week3.description)  # the code block
    assert week4.status == rf.TODO and week4.explicit  # "(TBD)": a placeholder week, kept
    assert [(c.text, c.done) for c in week5.criteria] == [
        ("p95 checkout < 300ms", False),
        ("no P0 bugs open", True),
    ]
    assert any(i.reason == "front matter" and (i.line, i.end) == (1, 4) for i in plan.ignored)
    assert not any("reminder" in item.title for item in plan.walk())  # the Notes section


def test_numbered_phases_with_labelled_fields() -> None:
    plan = load("numbered-phases.md")
    root = plan.items[0]
    assert root.owners == ["Web team"]  # "Owner: Web team. Target: end of Q2." holds two fields
    assert "Target: end of Q2" in "\n".join(root.description)  # not a date: kept as prose
    phase1 = find(plan, "Phase 1 – Discovery")
    assert (phase1.word, phase1.number, phase1.status, phase1.estimate) == (
        "phase",
        "1",
        rf.DONE,
        "1w",
    )
    s11 = find(plan, "1.1 Stakeholder interviews")
    assert (s11.estimate, s11.owners, s11.labels, s11.due, s11.status) == (
        "2d",
        ["Priya"],
        ["product-manager"],
        "2026-02-14",
        rf.DONE,
    )
    assert s11.deps == []  # "Depends on: —"
    s12 = find(plan, "1.2 Data model review")
    assert (s12.estimate, s12.labels, s12.priority, s12.status) == (
        "4h-6h",
        ["architect", "backend-developer"],
        1,
        rf.DONE,
    )
    assert [(c.text, c.done) for c in s12.criteria] == [
        ("Current schema documented", False),
        ("Pain points listed", True),
    ]
    assert find(plan, "Phase 3 – Layer 3: Frontend").number == "3"
    assert deps(find(plan, "2.1 API skeleton")) == [
        "1.2"
    ]  # "1.2 Data model review": number and title
    assert deps(find(plan, "2.3 Billing endpoints")) == ["2.1", "2.2"]
    assert find(plan, "2.3 Billing endpoints").status == rf.IN_PROGRESS
    assert find(plan, "3.1 Design system").due == "2026-03-20"
    assert deps(find(plan, "3.3 Launch checklist")) == [
        "Phase 1",
        "Phase 2",
    ]  # "all previous phases"
    assert [c.text for c in find(plan, "3.2 Account pages").criteria] == [
        "Profile page",
        "Billing page",
        "Settings page",
    ]
    assert [(u.line, u.item, u.reference) for u in plan.unresolved] == [(50, "2.2", "SSO decision")]
    assert any(
        i.line == 81 and i.reason.startswith("estimate not understood") for i in plan.ignored
    )


def test_tables_of_sprints_and_tasks() -> None:
    plan = load("sprint-table.md")
    sprints = [item for item in plan.walk() if item.kind == "sprint"]
    assert titles(sprints) == [
        "Sprint 1: Project setup & navigation",
        "Sprint 2: Login & onboarding",
        "Sprint 3: Feed",
        "Sprint 4: Offline mode",
    ]
    assert [s.status for s in sprints] == [rf.DONE, rf.IN_PROGRESS, None, rf.TODO]
    assert [(c.text, c.done) for c in sprints[1].criteria] == [
        ("User can log in", False),
        ("Tokens survive restart", True),
    ]
    assert "- RN scaffold\n- CI builds for iOS/Android\n- Tab navigation" in sprints[0].description
    assert "Dates: Mar 2 – Mar 13" in sprints[0].description
    listing = find(plan, "App store listing")
    assert (listing.kind, listing.estimate, listing.owners, deps(listing)) == (
        "task",
        "4h",
        ["Sam"],
        ["Sprint 2"],
    )
    assert deps(find(plan, "Submit build")) == ["App store listing", "Privacy policy review"]
    reasons = [i.reason for i in plan.ignored]
    assert "table row without a name" in reasons
    assert any(
        r.startswith(
            "table that is not a milestone, sprint or task table (columns: Environment, URL)"
        )
        for r in reasons
    )


def test_milestone_tables() -> None:
    plan = load("milestones.md")
    milestones = [item for item in plan.walk() if item.kind == "milestone"]
    assert [(m.title, m.status, m.due) for m in milestones] == [
        ("M1 Ingestion pipeline live", rf.DONE, "2026-01-31"),
        ("M2 Warehouse schema v2", rf.IN_PROGRESS, "2026-02-28"),
        ("M3 Self-serve dashboards", rf.TODO, "2026-04-15"),
        ("M4 ML feature store", rf.TODO, None),
        ("M5 Realtime streaming", rf.BLOCKED, "2026-06-30"),
    ]
    assert all(m.labels == ["milestone"] for m in milestones)
    assert milestones[3].description == ["Target: Q3"]
    assert deps(find(plan, "Dashboard templates")) == ["Milestone 2", "Backfill historical events"]
    assert any(i.reason.startswith("notes section") for i in plan.ignored)  # the status legend


def test_nested_bold_title_lists() -> None:
    plan = load("bold-lists.md")
    stripe = find(plan, "Stripe integration")
    assert stripe.description == ["replace the old Braintree code"]
    assert (stripe.estimate, stripe.labels) == ("3d", ["backend-developer"])
    assert titles(stripe.children) == ["Create customer on signup", "Charge saved card"]
    assert titles(stripe.children[1].children) == [
        "handle 3DS challenge",
        "retry on network errors",
    ]
    assert [c.text for c in stripe.criteria] == [
        "test card 4242 charges OK",
        "failed charge shows a clear error",
    ]
    refunds = find(plan, "Refunds")
    assert refunds.description == ["partial and full refunds from the admin panel"]
    assert deps(refunds) == ["Stripe integration"] and refunds.estimate == "1d-2d"
    assert deps(find(plan, "Invoices")) == ["Stripe integration", "Refunds"]
    assert find(plan, "Email invoice").owners == ["dev-2"]
    migrate = find(plan, "Migrate existing customers")
    assert migrate.estimate == "4h" and migrate.description == [
        "Notes: do it on a weekend, low traffic"
    ]
    assert titles(find(plan, "Monitoring").children) == [
        "Alert on failed charges > 2%",
        "Dashboard in Grafana",
    ]
    assert not any("Charge failed" in item.title for item in plan.walk())  # "Examples:"


def test_status_marked_headings() -> None:
    plan = load("status-headings.md")
    phase1, phase2, phase3, phase4, phase5 = plan.items[0].children
    assert (phase1.title, phase1.status) == ("Phase 1: MVP", rf.DONE)
    assert [(c.title, c.status) for c in find(plan, "Landing page").children] == [
        ("Hero section", rf.DONE), ("Pricing table", rf.DONE), ("Testimonials carousel", rf.TODO),
    ]  # fmt: skip
    assert find(plan, "Dark mode").status == rf.DONE  # ~~struck~~
    assert (phase2.title, phase2.status) == ("Phase 2: Blog", rf.IN_PROGRESS)
    assert find(plan, "Blog engine").status == rf.DONE and find(plan, "RSS feed").status == rf.DONE
    assert find(plan, "Author pages").status is None  # "in progress" is not passed down
    assert (phase3.status, titles(phase3.children)) == (rf.BLOCKED, ["iOS shell", "Android shell"])
    assert all(c.status == rf.BLOCKED for c in phase3.children)  # bare headings: the items, blocked
    assert phase4.status == rf.TODO and titles(phase4.children) == [
        "Translation pipeline",
        "RTL support",
    ]
    assert phase5.title == "Phase 5: Analytics" and deps(find(plan, "Event tracking")) == [
        "Cookie banner"
    ]


def test_mojibake_is_repaired() -> None:
    plan = load("mojibake.md")
    assert plan.repaired_lines >= 10
    root = plan.items[0]
    assert root.title == "Roadmap — Internal Tools"
    phase1, phase2 = root.children
    assert (phase1.title, phase1.status) == ("Phase 1 – Admin panel", rf.DONE)
    assert [(c.title, c.status) for c in phase1.children] == [
        ("User search", rf.DONE), ("Ban / unban users", rf.DONE), ("Audit log", rf.TODO),
    ]  # fmt: skip
    assert deps(find(plan, "Audit log")) == ["User search"]
    assert (phase2.status, phase2.estimate) == (rf.IN_PROGRESS, "2d-3d")
    assert [(m.title, m.status) for m in phase2.children if m.kind == "milestone"] == [
        ("Admin panel GA", rf.DONE), ("Support tooling beta", rf.TODO),
    ]  # fmt: skip


def test_cycles_are_cut_in_document_order_and_reported() -> None:
    plan = load("cycle.md")
    one, two, three, four, five = plan.items[0].children
    assert (
        deps(one) == ["3"] and deps(two) == ["1"] and deps(three) == []
    )  # 3 -> 2 closed the cycle
    cuts = {(c.line, c.item, c.reference, c.cycle) for c in plan.cycles}
    assert (10, "3", "2", ("3", "2", "1", "3")) in cuts
    assert (13, "4", "4", ("4", "4")) in cuts  # depends on itself
    assert (
        17,
        "Ship logs",
        "Logging",
        ("Ship logs", "5", "Ship logs"),
    ) in cuts  # on its own parent
    assert four.deps == [] and five.children[0].deps == []
    assert [(u.item, u.reference) for u in plan.unresolved] == [("Retention policy", "9.9")]


def test_a_parent_depending_on_its_own_subtask_is_a_cycle() -> None:
    plan = parse("# P\n\n## Build\nDepends on: Write code\n\n- Write code\n- Test\n")
    assert find(plan, "Build").deps == []
    assert [c.cycle for c in plan.cycles] == [("Build", "Write code", "Build")]


# -- keys and determinism -----------------------------------------------------------------------------


def test_the_same_roadmap_gives_the_same_keys() -> None:
    first = [(i.key, i.title) for i in load("mission-control-roadmap.md").walk()]
    second = [(i.key, i.title) for i in load("mission-control-roadmap.md").walk()]
    assert first == second
    assert len({key for key, _ in first}) == len(first)


def test_keys_survive_status_marks_and_formatting_but_not_a_new_title() -> None:
    before = parse("# R\n## Phase 1\n- [ ] Write docs\n- [ ] Same\n- [ ] Same\n")
    after = parse("# R\n## Phase 1 ✅\n- [x] **Write docs** (4h)\n- [ ] Same\n- [ ] Same\n")
    renamed = parse("# R\n## Phase 1\n- [ ] Write the docs\n- [ ] Same\n- [ ] Same\n")
    keys = [i.key for i in before.walk()]
    assert keys == [i.key for i in after.walk()]
    assert len(set(keys)) == 5  # the two "Same" items are told apart by order
    assert keys[2] != [i.key for i in renamed.walk()][2]


# -- fields -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("4-6 hours", "4h-6h"), ("4–6 hours", "4h-6h"), ("2 days", "2d"), ("1 week", "1w"), ("30 min", "30m"),
        ("4h - 6h", "4h-6h"), ("~3 hrs", "3h"), ("1.5h", "1.5h"), ("2-3d", "2d-3d"), ("4 to 6 hours", "4h-6h"),
        ("4h", "4h"), ("1d4h", "1d4h"), ("12–16 hours", "12h-16h"), ("2 weeks", "2w"),
        ("1 sprint", None), ("two afternoons", None), ("6-4 hours", None), ("", None),
    ],
)  # fmt: skip
def test_estimates_are_stored_in_one_form(text: str, stored: str | None) -> None:
    assert rf.parse_estimate_text(text) == stored


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("0.2 Database Schema Design", (None, "0.2")), ("PHASE 0: Foundation", ("phase", "0")),
        ("Phase 3 – Layer 3: UI", ("phase", "3")), ("Week 2", ("week", "2")), ("Sprint 3 - x", ("sprint", "3")),
        ("M1: Alpha", ("milestone", "1")), ("1. Setup", (None, "1")), ("01.2 Padded", (None, "1.2")),
        ("2026-03-01 Launch", (None, None)), ("Database setup", (None, None)),
    ],
)  # fmt: skip
def test_numbers_are_reference_keys(title: str, expected: tuple[str | None, str | None]) -> None:
    assert rf.strip_number(title)[:2] == expected


def test_labels_are_normalised() -> None:
    assert rf.parse_labels("Backend Developer + AI Specialist") == [
        "backend-developer",
        "ai-specialist",
    ]
    assert rf.parse_labels("Architect/Technical") == ["architect", "technical"]
    assert rf.parse_labels("Backend Developer / Frontend Developer / etc.") == [
        "backend-developer",
        "frontend-developer",
    ]


# -- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "r.md is empty: there is nothing to import"),
        (b"  \n\n\t\n", "r.md is empty: there is nothing to import"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "r.md is a binary file, not a markdown roadmap"),
        (b"# R\n- caf\xe9\n", "r.md is not UTF-8 text (invalid byte at offset 9)"),
        (
            b"# R\n\n- a \x1b[31mred\x1b[0m task\n",
            "r.md:3: control character U+001B: not a text roadmap",
        ),
    ],
)
def test_unusable_input_is_refused_in_one_line(data: bytes, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        roadmap.decode(data, "r.md")
    assert caught.value.message == message


def test_utf16_with_a_bom_is_read() -> None:
    text, _ = roadmap.decode("# R\n- [x] done ✅\n".encode("utf-16"), "r.md")
    assert text == "# R\n- [x] done ✅\n"


def test_too_large_is_refused() -> None:
    with pytest.raises(UsageError, match="too large"):
        roadmap.decode(b"x" * (roadmap.MAX_BYTES + 1), "r.md")


@pytest.mark.parametrize("depth", [40, 2000])
def test_deeply_nested_lists_are_refused_without_a_recursion_error(depth: int) -> None:
    text = "# R\n\n" + "".join("  " * i + f"- item {i}\n" for i in range(depth))
    with pytest.raises(UsageError, match=r"r\.md:\d+: nested too deeply"):
        parse(text)


def test_nesting_within_the_limit_is_read() -> None:
    text = "# R\n\n" + "".join("  " * i + f"- item {i}\n" for i in range(25))
    plan = parse(text)
    node = plan.items[0]
    depth = 0
    while node.children:
        node = node.children[0]
        depth += 1
    assert depth == 25


@pytest.mark.slow
def test_a_50000_line_roadmap_parses() -> None:
    plan = parse(big_roadmap(50_000))
    counts = plan.counts()
    assert counts["section"] > 3000 and counts["task"] > 15000 and plan.unresolved == []


def big_roadmap(lines: int) -> str:
    out = ["# Big roadmap", ""]
    phase = 0
    while len(out) < lines:
        out += [f"## Phase {phase}: Part {phase}", ""]
        for s in range(1, 11):
            out += [
                f"### {phase}.{s} Section {phase}.{s}",
                f"**Estimated Time:** {s + 1}-{s + 3} hours",
                f"**Dependencies:** {phase}.{s - 1}" if s > 1 else "**Dependencies:** None",
                "**Agent Type:** Backend Developer", "", "**Tasks:**",
                *(f"- Do thing {k} of {phase}.{s}" for k in range(5)),
                "", "**Acceptance Criteria:**", "- ✅ it works", "- ✅ tested", "",
            ]  # fmt: skip
        phase += 1
    return "\n".join(out) + "\n"


# -- the fast record writer the import uses ----------------------------------------------------------


_FRAGMENTS = [
    *"abcXYZ019 .,:#'\"-_()/+&[]{}!?%@*|>~é✅\t`",
    "\x85",
    "\ufeff",
    "\u00a0",
    ": ",
    " #",
    "---",
    "yes",
    "1.5",
    "2026-01-01",
    "null",
    "True",
    "NULL",
    "false",
    "on",
    "Off",
    "y",
    "N",
    "e5",
    ".inf",
    "0x1f",
    "t-",
    "x",
]
_TEXT = st.lists(st.sampled_from(_FRAGMENTS), max_size=8).map("".join)


@settings(max_examples=150, deadline=None)
@given(title=_TEXT, source=_TEXT, label=_TEXT, number=st.integers(0, 3))
def test_dump_new_writes_exactly_what_the_emitter_writes(
    title: str, source: str, label: str, number: int
) -> None:
    from agentctl.store.frontmatter import Document, dump_new

    fields = {
        "id": "t-abc",
        "title": title,
        "priority": number,
        "labels": ["a-b", label],
        "source": source,
        "depends_on": [],
    }
    assert dump_new(fields, "body\n") == Document.new(fields, "body\n").dumps()


# -- one module per library ----------------------------------------------------------------------------


def test_markdown_it_and_ftfy_are_imported_by_the_roadmap_module_only() -> None:
    import re

    import agentctl

    src = Path(agentctl.__file__).parent
    users = {
        library: sorted(
            path.relative_to(src).as_posix()
            for path in src.rglob("*.py")
            if re.search(
                rf"^\s*(from|import) {library}\b", path.read_text(encoding="utf-8"), re.MULTILINE
            )
        )
        for library in ("markdown_it", "ftfy")
    }
    assert users == {"markdown_it": ["store/roadmap.py"], "ftfy": ["store/roadmap.py"]}


def test_ftfy_is_imported_only_for_a_roadmap_with_mojibake() -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from agentctl.store import roadmap; "
        "roadmap.parse(roadmap.decode(sys.stdin.buffer.read(), 'r.md')[0], 'r.md'); print('ftfy' in sys.modules)"
    )
    clean = subprocess.run(
        [sys.executable, "-c", probe],
        input=b"# R\n- [x] done \xe2\x9c\x85\n",
        capture_output=True,
        check=True,
    )
    broken = subprocess.run(
        [sys.executable, "-c", probe],
        input=(FIXTURES / "mojibake.md").read_bytes(),
        capture_output=True,
        check=True,
    )
    assert (clean.stdout, broken.stdout) == (b"False\n", b"True\n")
