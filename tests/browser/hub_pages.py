"""Drive the demo hub (``deploy/local/demo_hub.py``) as its users would, in Chromium.

Every step goes through what a person clicks or types: the hub's login form,
JupyterLab's menus, nbgrader's Assignments panel, the formgrader's buttons
(inside its iframe), the notebook's cell editors and a JupyterLab terminal.
The pages expose ``window.jupyterapp`` only so that the helpers can *wait*
for JupyterLab (app ready, kernel idle, cells run) and read what is on screen.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from browser.lab import ROOT

LAUNCHER = ROOT / "deploy" / "local" / "demo_hub.py"
EXERCISE = "ex01-partial-derivatives"
_JS_APP_READY = "() => !!(window.jupyterapp && window.jupyterapp.started && document.querySelector('#main'))"


def hub_missing():
    """Why the hub tests cannot run here (one line), or None."""
    sys.path.insert(0, str(LAUNCHER.parent))
    try:
        from demo_hub import hub_missing as missing
    finally:
        sys.path.pop(0)
    return missing()


class HubProcess:
    """``demo_hub.py`` as ``make hub`` runs it; :meth:`interrupt` is the user's Ctrl-C."""

    def __init__(self, state, port, password, env=None, timeout=120):
        self.state, self.port, self.password = Path(state), port, password
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = self.state.parent / f"{self.state.name}-launcher.log"
        self._log = open(self.log_path, "w")
        full_env = {**os.environ, "NABLAKIT_HUB_EXPOSE_APP": "1", **(env or {})}
        self.proc = subprocess.Popen([sys.executable, str(LAUNCHER), "--port", str(port), "--password", password,
                                      "--state", str(state)], env=full_env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while "Press Ctrl-C" not in self.log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.interrupt()
                raise RuntimeError(f"make hub did not start:\n{self.log()}\n{self.hub_log()}")
            time.sleep(0.2)

    def log(self):
        return self.log_path.read_text()

    def hub_log(self, chars=5000):
        path = self.state / "jupyterhub.log"
        return path.read_text()[-chars:] if path.exists() else ""

    def interrupt(self, timeout=60):
        """Ctrl-C; returns (exit status, processes still alive that the hub had started)."""
        import psutil

        started = psutil.Process(self.proc.pid).children(recursive=True) if self.proc.poll() is None else []
        self.proc.send_signal(signal.SIGINT)
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            status = self.proc.wait()
        self._log.close()
        left = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        for proc in left:
            proc.kill()
        return status, left

    def port_open(self):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0


def start_login(browser, hub, user, viewport=(1400, 1000)):
    """Open the hub's login page in a fresh browser profile and sign in (does not wait for the server)."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.password)
    page.click("#login_submit")
    return page


def wait_lab(page, timeout=150):
    """Wait until the user's JupyterLab has started (the hub spawns the server after login)."""
    page.wait_for_function(_JS_APP_READY, timeout=timeout * 1000, polling=250)
    page.evaluate("() => window.jupyterapp.restored")
    return page


def menu(page, top, item):
    """Click a menu of JupyterLab's menu bar, then one of its items."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")).click()
    page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def menu_items(page, top):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")).click()
    items = page.locator(".lm-Menu-content .lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    return items


# --- the instructor's formgrader ----------------------------------------------------------------

def open_formgrader(page):
    menu(page, "Nbgrader", "Formgrader")
    frame = page.frame_locator("#formgrader-iframe iframe").first
    frame.locator("#main-table tr", has_not_text="Loading").first.wait_for(timeout=60_000)
    return frame


def formgrader_action(frame, assignment, column, timeout=120):
    """Click the button of ``column`` (``assign``, ``release``, ``collect``, ``release-feedback``...).

    Returns the log text of nbgrader's "Success" dialog; raises with the dialog's text on an error.
    """
    row = frame.locator("#main-table tr", has=frame.locator("td.name", has_text=assignment))
    row.locator(f"td.{column} a").click()
    dialog = frame.locator("#success-modal, #error-modal")
    dialog.wait_for(timeout=timeout * 1000)
    text = dialog.inner_text()
    if dialog.get_attribute("id") != "success-modal":
        raise AssertionError(f"formgrader {column} of {assignment} failed:\n{text}")
    dialog.locator("button.btn-primary").click()
    dialog.wait_for(state="detached", timeout=10_000)
    frame.locator("#main-table td.name", has_text=assignment).wait_for(timeout=30_000)  # the row redrawn
    return text


def open_terminal(page):
    """File -> New -> Terminal; returns once its shell prompt is there."""
    menu(page, "File", "New")
    page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile("^Terminal$")).click()
    page.locator(".jp-Terminal .xterm-helper-textarea").last.wait_for(timeout=30_000)
    page.wait_for_function(_JS_TERMINAL_PROMPT, timeout=30_000)


def terminal_type(page, command):
    """Type ``command`` into the terminal in front; it prints ``nablakit-exit=<status>`` when done."""
    page.locator(".jp-Terminal .xterm-helper-textarea").last.focus()
    page.evaluate("() => { window.__nablakitTyped = (window.__nablakitTyped || 0) + 1; }")
    page.keyboard.type(f"{command}; echo nablakit-exit=$?\n")


def terminal_done(page):
    """None while the last command runs, else (exit status, the terminal's text)."""
    text = page.evaluate(_JS_TERMINAL_TEXT)
    found = re.findall(r"nablakit-exit=(\d+)", text)
    return (int(found[-1]), text) if len(found) >= page.evaluate(_JS_TERMINAL_COMMANDS) else None


def terminal_wait(page, timeout=180):
    page.wait_for_function(f"() => ({_JS_TERMINAL_TEXT})().split(/nablakit-exit=\\d+/).length - 1 >= "
                           f"({_JS_TERMINAL_COMMANDS})()", timeout=timeout * 1000, polling=500)
    return terminal_done(page)


def terminal_run(page, command, timeout=180):
    """Type ``command`` into the terminal in front and return (exit status, the terminal's text)."""
    terminal_type(page, command)
    return terminal_wait(page, timeout)


_JS_TERMINAL_TEXT = """() => { const w = window.jupyterapp.shell.currentWidget;
  const term = w && w.content && w.content._term; if (!term) return '';
  const b = term.buffer.active; const lines = [];
  for (let i = 0; i < b.length; i++) { const line = b.getLine(i); const text = line.translateToString(true);
    if (line.isWrapped && lines.length) lines[lines.length - 1] += text; else lines.push(text); }
  return lines.join('\\n'); }"""
# commands typed so far (terminal_type counts them)
_JS_TERMINAL_COMMANDS = "() => window.__nablakitTyped || 0"
_JS_TERMINAL_PROMPT = f"() => /[$#]\\s*$/.test(({_JS_TERMINAL_TEXT})().trim())"


# --- a student's Assignments panel and notebook --------------------------------------------------

def open_assignments(page):
    menu(page, "Nbgrader", "Assignment List")
    panel = page.locator("#nbgrader-assignment-list")
    panel.locator("#released_assignments_list").wait_for(timeout=30_000)
    return panel


def refresh_assignments(panel):
    panel.locator("#refresh_assignments_list").click()


def assignment_row(panel, section, assignment):
    return panel.locator(f"#{section}_assignments_list .list_item", has_text=assignment).first


def fetch(panel, assignment):
    row = assignment_row(panel, "released", assignment)
    row.wait_for(timeout=30_000)
    row.get_by_role("button", name="Fetch").click()
    assignment_row(panel, "fetched", assignment).wait_for(timeout=60_000)


def open_fetched_notebook(page, panel, assignment):
    row = assignment_row(panel, "fetched", assignment)
    row.locator("a.assignment-notebooks-link").click()
    row.locator(".assignment-notebooks a", has_text=assignment).first.click()
    page.wait_for_function(_JS_NOTEBOOK_READY, timeout=90_000, polling=200)


_JS_NOTEBOOK_READY = """() => { const w = window.jupyterapp.shell.currentWidget;
  if (!w || !w.content || !w.content.model || !w.sessionContext) return false;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  if (!(k && k.status === 'idle')) return false; window.__nb = w; return true; }"""

# Scroll the notebook to the cell with this nbgrader grade_id (JupyterLab renders only the cells
# near the view) and mark its node, so that the page can be used like any other.
_JS_SHOW_CELL = """async (gradeId) => { const nb = window.__nb.content; const cells = nb.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const meta = cells.get(i).getMetadata('nbgrader');
    if (meta && meta.grade_id === gradeId) {
      await nb.scrollToItem(i, 'center');
      nb.widgets[i].node.setAttribute('data-grade-id', gradeId);
      return true; } }
  return false; }"""


def show_cell(page, grade_id):
    assert page.evaluate(_JS_SHOW_CELL, grade_id), f"no cell {grade_id} in the notebook"
    cell = page.locator(f".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell[data-grade-id='{grade_id}']")
    cell.wait_for(state="visible", timeout=10_000)
    return cell


def type_answer(page, grade_id, text):
    """Replace the answer cell ``grade_id`` with ``text``, as pasted from the keyboard."""
    cell = show_cell(page, grade_id)
    if "jp-MarkdownCell" in (cell.get_attribute("class") or ""):
        cell.dblclick()  # a rendered markdown cell opens its editor on a double click
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    page.keyboard.press("Escape")
    if "jp-MarkdownCell" in (cell.get_attribute("class") or ""):
        page.keyboard.press("Shift+Enter")  # render it again


_JS_RUN_DONE = """() => { const w = window.__nb; const cells = w.content.model.cells;
  let pending = 0, failed = false;
  for (let i = 0; i < cells.length; i++) { const c = cells.get(i); if (c.type !== 'code') continue;
    for (let j = 0; j < c.outputs.length; j++) if (c.outputs.get(j).type === 'error') failed = true;
    if (c.sharedModel.getSource().trim() && c.executionCount == null) pending++; }
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && (pending === 0 || failed); }"""


def run_all(page):
    menu(page, "Run", "Run All Cells")


def wait_run_and_save(page, timeout=120):
    page.wait_for_function(_JS_RUN_DONE, timeout=timeout * 1000, polling=200)
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !window.__nb.context.model.dirty", timeout=30_000)


def cell_output_text(page, grade_id):
    cell = show_cell(page, grade_id)
    output = cell.locator(".jp-OutputArea-output").first
    output.wait_for(state="visible", timeout=10_000)
    return cell.locator(".jp-OutputArea").inner_text()


def submit(panel, assignment):
    before = panel.locator("#submitted_assignments_list .list_item").count()
    assignment_row(panel, "fetched", assignment).get_by_role("button", name="Submit").click()
    panel.page.wait_for_function(
        "(n) => document.querySelectorAll('#submitted_assignments_list .list_item').length > n", arg=before,
        timeout=60_000)


def fetch_and_open_feedback(page, panel, assignment):
    """Fetch Feedback, follow "(view feedback)" and open the HTML file; returns its text."""
    refresh_assignments(panel)
    row = assignment_row(panel, "submitted", assignment)
    button = row.get_by_role("button", name="Fetch Feedback")
    button.wait_for(timeout=30_000)
    button.click()
    link = row.locator("a", has_text="view feedback").first
    link.wait_for(timeout=60_000)
    link.click()
    item = page.locator(".jp-DirListing-item", has_text=f"{assignment}.html")
    item.wait_for(timeout=30_000)
    item.dblclick()
    frame = page.frame_locator(".jp-HTMLViewer:not(.lm-mod-hidden) iframe").first
    body = frame.locator("body")
    body.wait_for(timeout=30_000)
    frame.locator("text=Score").first.wait_for(timeout=30_000)
    return body.inner_text()


def http_status(page, url):
    """Status of a GET with the user's own cookies (what the address bar would get)."""
    return page.context.request.get(url).status


# --- a grader's manual grading in the formgrader -------------------------------------------------

def open_grading_page(page, assignment):
    """Formgrader -> Manual Grading -> the assignment -> its notebook -> its first submission; returns the frame."""
    frame = open_formgrader(page)
    frame.locator("a", has_text=re.compile("^Manual Grading$")).click()
    for suffix in (f"/formgrader/gradebook/{assignment}", f"/formgrader/gradebook/{assignment}/{assignment}"):
        link = frame.locator(f"a[href$='{suffix}']")
        link.wait_for(timeout=30_000)
        link.click()
    frame.locator("a.name-hidden", has_text="Submission #1").click()
    return frame


def enter_score(page, frame, grade_id, score):
    """Type a score into the grading page's box of ``grade_id``; returns once the formgrader saved it."""
    # the page's script marks the box once it has loaded the grade (before that, typing saves nothing)
    box = frame.locator(f"input.score.needs_manual_grade#{grade_id}")
    box.wait_for(timeout=60_000)
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT",
                              timeout=60_000) as response:
        box.fill(str(score))
        box.press("Tab")  # leaving the box saves it
    assert response.value.status == 200, response.value.status
    return response.value.json()
