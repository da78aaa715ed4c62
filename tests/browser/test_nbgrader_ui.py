"""nbgrader in JupyterLab: students get only their tools, instructors get formgrader.

The venv disables nbgrader's instructor plugins for students (``make
setup``, ``postBuild``). The instructor page enables them through the test
server's temporary, highest-priority page config, so the venv is never
changed.
"""

import pytest

from browser.lab import INSTRUCTOR_PLUGINS, NBGRADER, STUDENT_PLUGINS, LabPage
from course_map import exercise_names

pytestmark = pytest.mark.xdist_group("browser")

_JS_PLUGINS = """() => { const app = window.jupyterapp;
  return Object.fromEntries(app.listPlugins().filter(p => p.startsWith('@jupyter/nbgrader'))
    .map(p => [p, app.isPluginActivated(p)])); }"""
_JS_MENUS = "() => Array.from(document.querySelectorAll('.lm-MenuBar-itemLabel')).map(e => e.textContent)"
_JS_OPEN = """async (command) => { const app = window.jupyterapp;
  const w = await app.commands.execute(command);
  const current = w && w.id ? w : app.shell.currentWidget;
  return {id: current.id, label: current.title.label, text: current.node.innerText.slice(0, 2000)}; }"""


def nbgrader_console_errors(lab):
    return [text for _, text in lab.console if "nbgrader" in text.lower() or "formgrader" in text.lower()]


def test_student_gets_student_plugins_only(student_page):
    plugins = student_page.page.evaluate(_JS_PLUGINS)
    for name in STUDENT_PLUGINS:
        assert plugins.get(name), f"{name} should be active for students; nbgrader plugins: {plugins}"
    for name in INSTRUCTOR_PLUGINS:
        assert not plugins.get(name), f"{name} must be disabled for students (make setup / postBuild)"
    assert "Nbgrader" in student_page.page.evaluate(_JS_MENUS)
    panel = student_page.page.evaluate(_JS_OPEN, "nbgrader:open-assignment-list")
    assert "Released assignments" in panel["text"], panel
    assert "error" not in panel["text"].lower(), f"the assignment list shows an error: {panel['text'][:500]}"
    assert not nbgrader_console_errors(student_page)


@pytest.fixture(scope="module")
def instructor_page(lab_server, browser):
    lab_server.set_role("instructor")
    try:
        page = LabPage(browser, lab_server).load()
    finally:
        lab_server.set_role("student")  # later page loads are students again
    yield page
    page.close()


def test_instructor_plugins_load(instructor_page):
    plugins = instructor_page.page.evaluate(_JS_PLUGINS)
    for name in (f"{NBGRADER}:menu", *STUDENT_PLUGINS, *INSTRUCTOR_PLUGINS):
        assert plugins.get(name), f"{name} is not active for the instructor; nbgrader plugins: {plugins}"
    commands = instructor_page.page.evaluate("() => window.jupyterapp.commands.listCommands()")
    for command in ("nbgrader:open-formgrader", "nbgrader:open-assignment-list", "nbgrader:open-course-list",
                    "nbgrader:open-create-assignment"):
        assert command in commands, f"{command} missing"
    assert "Nbgrader" in instructor_page.page.evaluate(_JS_MENUS)


def test_formgrader_lists_the_course_assignments(instructor_page, screenshot_dir):
    lab = instructor_page
    panel = lab.page.evaluate(_JS_OPEN, "nbgrader:open-formgrader")
    assert panel["label"] == "Formgrader", panel
    frame = lab.page.frame_locator(f"#{panel['id']} iframe")
    table = frame.locator("#main-table")  # the tbody of the assignments table
    table.wait_for(timeout=30_000)
    # the table says "Loading, please wait..." until the formgrader's API has answered
    frame.locator("#main-table tr", has_not_text="Loading").first.wait_for(timeout=60_000)
    text = table.inner_text()
    expected = exercise_names()
    missing = [name for name in expected if name not in text]
    assert not missing, f"formgrader does not list {missing}; it shows:\n{text[:1000]}"
    body = frame.locator("body").inner_text()
    assert "Sorry, the formgrader encountered an error" not in body, body[:1000]
    lab.page.screenshot(path=str(screenshot_dir / "instructor-formgrader.png"))
    assert not nbgrader_console_errors(lab), nbgrader_console_errors(lab)


def test_instructor_side_panels_open(instructor_page):
    lab = instructor_page
    courses = lab.page.evaluate(_JS_OPEN, "nbgrader:open-course-list")
    assert "formgraders" in courses["text"].lower(), courses
    assignments = lab.page.evaluate(_JS_OPEN, "nbgrader:open-assignment-list")
    assert "Released assignments" in assignments["text"], assignments
    lab.page.evaluate("() => window.jupyterapp.commands.execute('nbgrader:open-create-assignment')")
    lab.page.get_by_text("Create Assignment").first.wait_for(timeout=10_000)
    errors = [text for _, text in lab.console]
    assert not errors, "console errors on the instructor page:\n" + "\n".join(e[:300] for e in errors)
