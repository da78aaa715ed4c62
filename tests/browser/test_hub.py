"""A class on the demo JupyterHub (`make hub`), end to end in Chromium.

One hub for the module, started the way ``make hub`` starts it and stopped
with Ctrl-C at the end, its graders sharing a PostgreSQL gradebook (the
suite's throw-away server; SQLite without PostgreSQL). The tests run in
order and share the hub:

1. the instructor generates and releases exercises 1 and 2 in the formgrader;
2. alice and bob fetch exercise 1 from their Assignments tab, see their own
   numbers, answer (alice right, bob with a missing chain-rule factor) and
   submit; alice also answers exercise 2, written part included;
3. alice reaches neither the formgrader, nor the course, nor bob's files;
4. the instructor collects in the formgrader and grades exercise 2 with the
   sandboxed ``nablakit-grade`` in a JupyterLab terminal; then, while
   ``nablakit-grade --feedback`` grades exercise 1, the TA grades alice's
   written answer of exercise 2; both land in the gradebook (no lost
   update); the instructor releases exercise 1's feedback in the formgrader;
5. alice reads full marks, bob his part's points and the named mistake;
6. Ctrl-C leaves no process and no open port.

Each step uses the pages and buttons a person would; ``nablakit-grade`` has
no page, so the instructor types it into a JupyterLab terminal.
"""

import re
import secrets
import textwrap
import time

import pytest

from browser.hub_pages import (EXERCISE, HubProcess, cell_output_text, enter_score, fetch, fetch_and_open_feedback,
                               formgrader_action, http_status, menu_items, open_assignments, open_fetched_notebook,
                               open_formgrader, open_grading_page, open_terminal, run_all, start_login, submit,
                               terminal_done, terminal_run, terminal_type, terminal_wait, type_answer, wait_lab,
                               wait_run_and_save)
from browser.lab import ROOT, free_port
from exercise_cases import CASES
from grading_support import postgres_available, postgres_server
from nablakit.grading.submission import solution_answers

# Its own group: under `make test` it runs beside the other browser tests, not after them.
pytestmark = pytest.mark.xdist_group("hub")

WRITTEN = "ex02-gradient-geometry"  # (d) has a written part, ex02-d-written (1 point)
SLIP = CASES[EXERCISE]["wrong"][0]  # missing chain-rule factor 2*w1 in grad_L
MARKS = {"alice": (10.0, 10.0), "bob": (8.0, 10.0)}
TIMES = {}


def answers(student, exercise=EXERCISE):
    right = solution_answers(ROOT / "solutions" / exercise / f"{exercise}.ipynb")
    if student == "bob":
        # the card's slip, on bob's own c (the card's reference variant has c = 1)
        right.update({k: v.replace("(w2 - 1)", "(w2 - c)") for k, v in SLIP["answers"].items()})
    return {k: textwrap.dedent(v).strip() + "\n" for k, v in right.items()}


@pytest.fixture(scope="module")
def gradebook_url():
    """The graders' shared gradebook: a throw-away PostgreSQL server, or None (SQLite in the course)."""
    if not postgres_available():
        yield None
        return
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="module")
def hub(tmp_path_factory, gradebook_url):
    start = time.perf_counter()
    state = tmp_path_factory.mktemp("hub") / "state"
    env = {"NBGRADER_DB_URL": gradebook_url} if gradebook_url else {}
    process = HubProcess(state, free_port(), secrets.token_urlsafe(12), env=env)
    TIMES["hub up"] = time.perf_counter() - start
    yield process
    status, left = process.interrupt()
    assert status == 0, f"make hub ended with {status} on Ctrl-C:\n{process.log()}"
    assert not left, f"processes left after Ctrl-C: {[p.cmdline() for p in left]}"
    assert not process.port_open(), f"port {process.port} still open after Ctrl-C"
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    TIMES["module"] = time.perf_counter() - start
    (artifacts / "hub-timings.txt").write_text("".join(f"{k}: {v:.1f} s\n" for k, v in TIMES.items()))


class Pages(dict):
    """Each user's page, by name, waited for on first use (servers spawn while others work)."""

    def __init__(self, pages, hub):
        super().__init__(pages)
        self.hub = hub
        self.ready = set()

    def __getitem__(self, user):
        page = super().__getitem__(user)
        if user not in self.ready:
            start = time.perf_counter()
            try:
                wait_lab(page)
            except Exception:
                pytest.fail(f"{user}'s JupyterLab did not start:\n{self.hub.hub_log()}")
            TIMES[f"waited for {user}'s server"] = time.perf_counter() - start
            self.ready.add(user)
        return page


@pytest.fixture(scope="module")
def pages(hub, browser):
    """Everyone signs in at once; the hub spawns their servers in parallel."""
    opened = Pages({user: start_login(browser, hub, user) for user in ("instructor", "alice", "bob", "ta")}, hub)
    yield opened
    for page in dict.values(opened):
        page.context.close()


def test_instructor_releases_exercises_1_and_2_in_the_formgrader(pages):
    page = pages["instructor"]
    frame = open_formgrader(page)
    for exercise in (EXERCISE, WRITTEN):
        generated = formgrader_action(frame, exercise, "assign")
        assert "Successfully created the student version" in generated, generated
        released = formgrader_action(frame, exercise, "release")
        assert "Successfully released" in released, released
        status = frame.locator("#main-table tr", has=frame.locator("td.name", has_text=exercise)).locator("td.status")
        assert status.inner_text().strip() == "released"


def test_students_fetch_answer_and_submit(pages):
    """alice and bob work at the same time, as a class does (and the kernels share the cores)."""
    start = time.perf_counter()
    students = ("alice", "bob")
    for student in students:
        fetch(open_assignments(pages[student]), EXERCISE)
    for student in students:
        open_fetched_notebook(pages[student], open_assignments(pages[student]), EXERCISE)
    for student in students:
        for grade_id, text in answers(student).items():
            type_answer(pages[student], grade_id, text)
        run_all(pages[student])
    shown = {}
    for student in students:
        page = pages[student]
        wait_run_and_save(page)
        shown[student] = "".join(cell_output_text(page, cell) for cell in ("ex01-imports", "ex01-f", "ex01-L"))
        assert f"for {student}" in shown[student], f"{student}'s notebook does not use their own variant:\n{shown}"
    assert shown["alice"].split("\n", 1)[1] != shown["bob"].split("\n", 1)[1], f"the same numbers: {shown}"
    check = cell_output_text(pages["bob"], "ex01-d-grad-L")
    assert "missing chain-rule factor" in check, f"bob's visible check does not name his slip:\n{check}"
    for student in students:
        submit(open_assignments(pages[student]), EXERCISE)  # back to the Assignments tab
    # alice also answers exercise 2, whose written part a TA grades later
    page = pages["alice"]
    fetch(open_assignments(page), WRITTEN)
    open_fetched_notebook(page, open_assignments(page), WRITTEN)
    for grade_id, text in answers("alice", WRITTEN).items():
        type_answer(page, grade_id, text)
    page.keyboard.press("Control+s")  # saved and submitted without a last run
    page.wait_for_function("() => !window.__nb.context.model.dirty", timeout=30_000)
    submit(open_assignments(page), WRITTEN)
    inbound = sorted(p.name.split("+")[:2] for p in (pages.hub.state / "exchange" / "gradients" / "inbound").iterdir())
    assert inbound == [["alice", EXERCISE], ["alice", WRITTEN], ["bob", EXERCISE]], inbound
    TIMES["students"] = time.perf_counter() - start


def test_a_student_sees_no_formgrader_no_course_and_no_one_else(pages, hub):
    page = pages["alice"]
    assert "Formgrader" not in menu_items(page, "Nbgrader")
    for url in (f"{hub.url}/user/alice/formgrader", f"{hub.url}/user/alice/formgrader/api/assignments",
                f"{hub.url}/user/instructor/formgrader", f"{hub.url}/user/instructor/lab",
                f"{hub.url}/user/bob/api/contents/{EXERCISE}",
                f"{hub.url}/user/alice/api/contents/..%2Finstructor%2Fgradients%2Fsolutions",
                f"{hub.url}/user/alice/files/..%2Fbob%2F{EXERCISE}%2F{EXERCISE}.ipynb"):
        status = http_status(page, url)
        assert status in (403, 404), f"alice got {status} for {url}"
    listing = page.context.request.get(f"{hub.url}/user/alice/api/contents/").json()
    assert sorted(item["name"] for item in listing["content"]) == [EXERCISE, WRITTEN], listing


def test_instructor_grades_while_the_ta_grades_a_written_part(pages, hub, gradebook_url):
    page = pages["instructor"]
    frame = open_formgrader(page)
    for exercise in (EXERCISE, WRITTEN):
        collected = formgrader_action(frame, exercise, "collect")
        assert "Successfully collected" in collected, collected
    open_terminal(page)
    status, text = terminal_run(page, f"cd gradients && nablakit-grade {WRITTEN} --workers 1 --no-progress")
    assert status == 0, f"nablakit-grade {WRITTEN} failed:\n{text}"
    ta = pages["ta"]
    grading = open_grading_page(ta, WRITTEN)  # alice's exercise 2, in the TA's formgrader
    start = time.perf_counter()
    terminal_type(page, f"nablakit-grade {EXERCISE} --feedback --workers 2 --no-progress")
    # while it grades exercise 1 into the same gradebook, the TA scores alice's written answer of exercise 2
    saved = enter_score(ta, grading, "ex02-d-written", 1)
    assert saved["manual_score"] == 1, saved
    assert terminal_done(page) is None, "nablakit-grade had finished before the TA's grade: nothing ran concurrently"
    status, text = terminal_wait(page)
    TIMES["nablakit-grade"] = time.perf_counter() - start
    assert status == 0, f"nablakit-grade failed:\n{text}"
    # sandboxed: without bwrap it refuses (status 2); --no-sandbox would print this warning
    assert "graded with --no-sandbox" not in text, text
    assert re.search(rf"{EXERCISE}\s+2\s+2\s+0\s", text), f"not both graded:\n{text}"
    frame = open_formgrader(page)  # the terminal took the main area: back to the formgrader tab
    formgrader_action(frame, EXERCISE, "release-feedback")
    feedback = hub.state / "exchange" / "gradients" / "feedback"
    assert len(list(feedback.glob("*.html"))) == 2, sorted(feedback.iterdir())

    from nbgrader.api import Gradebook

    url = gradebook_url or "sqlite:///" + str(hub.state / "home" / "instructor" / "gradients" / "autograder" /
                                             "gradebook.db")
    with Gradebook(url, course_id="gradients") as gradebook:
        written = gradebook.find_grade("ex02-d-written", WRITTEN, WRITTEN, "alice")
        assert written.manual_score == 1 and not written.needs_manual_grade, "the TA's grade was lost"
        assert gradebook.find_submission(WRITTEN, "alice").score == 10, "alice's exercise 2: 9 autograded + 1 written"
        for student, (score, total) in MARKS.items():
            assert gradebook.find_submission(EXERCISE, student).score == score, f"{student}'s exercise 1"


@pytest.mark.parametrize("student", ["alice", "bob"])
def test_student_reads_their_feedback(pages, student):
    page = pages[student]
    panel = open_assignments(page)
    text = fetch_and_open_feedback(page, panel, EXERCISE)
    score, total = MARKS[student]
    assert re.search(rf"Score:\s*{score}\s*/\s*{total}", text), f"{student}'s feedback:\n{text[:2000]}"
    if student == "bob":
        assert SLIP["misconception"] in text, f"bob's feedback does not name his mistake:\n{text[:3000]}"
        part = re.search(r"ex01-d-grad-L.{0,200}", text, re.S)
        assert part and re.search(r"0(\.0)?\s*/\s*2(\.0)?", part.group(0)), text[:3000]
