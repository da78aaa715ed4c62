"""Drive the course in a real browser: a private JupyterLab server and Chromium.

Shared by the browser tests (``tests/browser``) and the latency benchmark
(``benchmarks/bench_widgets.py``). Everything waits on conditions in the page
(kernel idle, cells executed, canvas pixels changed), never on fixed sleeps.

The server runs from the project's virtual environment with its own temporary
HOME, Jupyter config/data/runtime dirs, settings and workspaces, so a test run
neither reads nor leaves any state outside a temporary directory. Lab
extensions are still found, because they live under ``sys.prefix``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
INSTALL_HINT = "Chromium not found (Debian's package chromium; `make system-deps` installs it)"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
NBGRADER = "@jupyter/nbgrader"
INSTRUCTOR_PLUGINS = (f"{NBGRADER}:formgrader", f"{NBGRADER}:create-assignment", f"{NBGRADER}:course-list")
STUDENT_PLUGINS = (f"{NBGRADER}:assignment-list", f"{NBGRADER}:validate-assignment")


def chromium_path():
    """Return the Chromium executable to drive, or None if there is none.

    ``NABLAKIT_CHROMIUM`` names another executable; if set, it is the only candidate.
    """
    override = os.environ.get("NABLAKIT_CHROMIUM")
    candidates = [override] if override else ["/usr/bin/chromium", shutil.which("chromium"),
                                              shutil.which("chromium-browser")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def browser_missing_part():
    """``(part, why)`` when the browser tests cannot run here (parts as in ``tests/system_parts.py``), or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright", "Playwright is not installed in the venv (`make setup` installs it)"
    if chromium_path() is None:
        return "chromium", INSTALL_HINT
    return None


def browser_missing():
    """Why the browser tests cannot run here (one line), or None if they can."""
    missing = browser_missing_part()
    return missing[1] if missing else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A JupyterLab server on a free port, with a token and private temp dirs.

    ``role`` selects the nbgrader plugins the page gets: ``"student"`` (the
    venv's own setting: instructor plugins disabled) or ``"instructor"``
    (formgrader, create-assignment and course-list enabled). The role is
    written to a *temporary* ``labconfig/page_config.json`` on
    ``JUPYTER_CONFIG_PATH`` (which outranks the venv's own config), and
    JupyterLab reads it on every page load, so the role can be switched
    between page loads without touching the venv.
    """

    def __init__(self, root=ROOT, timeout=90):
        self.root = Path(root)
        self.tmp = Path(tempfile.mkdtemp(prefix="nablakit-lab-"))
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        for var in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "MPLCONFIGDIR",
                    "IPYTHONDIR"):
            path = self.tmp / var.lower()
            path.mkdir()
            self.env[var] = str(path)
        self.env.pop("MPLBACKEND", None)  # the notebooks choose ipympl themselves
        self.env.pop("JUPYTER_PATH", None)
        # as `make lab` does: nbgrader shells out to the venv's `alembic`
        self.env["PATH"] = f"{VENV_BIN}{os.pathsep}{self.env.get('PATH', '')}"
        self.env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        # Highest-priority config dir (a venv's own config outranks JUPYTER_CONFIG_DIR): holds the role.
        self.env["JUPYTER_CONFIG_PATH"] = str(self.tmp / "role-config")
        self.set_role("student")
        # Never write a notebook back: the chapters under test must stay unchanged.
        settings = self.tmp / "settings" / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
        settings.parent.mkdir(parents=True)
        settings.write_text(json.dumps({"autosave": False}))
        self._write_nbgrader_config()
        self.log_path = self.tmp / "server.log"
        cmd = [
            str(VENV_BIN / "jupyter"), "lab", "--no-browser", "--allow-root",
            f"--port={self.port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            f"--LabApp.workspaces_dir={self.tmp / 'workspaces'}",
            f"--LabApp.user_settings_dir={self.tmp / 'settings'}",
            # JupyterLab makes a checkpoint when it opens a notebook: keep them out of the project
            f"--FileCheckpoints.checkpoint_dir={self.tmp / 'checkpoints'}",
            # tests reach the command registry and notebook models through window.jupyterapp
            "--LabApp.expose_app_in_browser=True",
        ]
        self._log = open(self.log_path, "w")
        # cwd is the temp dir so that nothing (e.g. an nbgrader gradebook) is created in the project
        self.proc = subprocess.Popen(cmd, cwd=self.tmp, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._wait_ready(timeout)

    def set_role(self, role):
        if role not in ("student", "instructor"):
            raise ValueError(f"role must be 'student' or 'instructor'; got {role!r}")
        # No news prompt: the venv's lab settings (autograder/student_lab_overrides.json) turn it off.
        disabled = {}
        if role == "instructor":
            disabled.update({name: False for name in INSTRUCTOR_PLUGINS})
        path = Path(self.env["JUPYTER_CONFIG_PATH"]) / "labconfig" / "page_config.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"disabledExtensions": disabled}, indent=2))
        self.role = role

    def _write_nbgrader_config(self):
        """The course's nbgrader config, with the gradebook and exchange moved to the temp dir.

        nbgrader reads ``nbgrader_config.py`` from the server's working
        directory, which is the temp dir.
        """
        course = ROOT / "autograder" / "nbgrader_config.py"
        lines = ["c = get_config()  # noqa: F821"]
        if course.exists():
            lines.append(f"load_subconfig({str(course)!r})  # noqa: F821")
        lines += [
            f"c.CourseDirectory.db_url = {'sqlite:///' + str(self.tmp / 'gradebook.db')!r}",
            f"c.Exchange.root = {str(self.tmp / 'exchange')!r}",
        ]
        (self.tmp / "exchange").mkdir()
        (self.tmp / "nbgrader_config.py").write_text("\n".join(lines) + "\n")

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                req = urllib.request.Request(f"{self.url}/api/status", headers={"Authorization": f"token {self.token}"})
                json.load(urllib.request.urlopen(req, timeout=2))
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer /api/status within {timeout} s:\n{self.log_tail()}")

    def api(self, path):
        req = urllib.request.Request(f"{self.url}/api/{path}", headers={"Authorization": f"token {self.token}"})
        return json.load(urllib.request.urlopen(req, timeout=10))

    def session_paths(self):
        return [s.get("path") for s in self.api("sessions")]

    def lab_url(self, path=""):
        return f"{self.url}/lab/tree/{path}?token={self.token}" if path else f"{self.url}/lab?token={self.token}"

    def log_tail(self, chars=3000):
        try:
            return self.log_path.read_text()[-chars:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def launch_browser(playwright):
    """Launch headless Chromium (Debian's, not Playwright's download)."""
    path = chromium_path()
    if path is None:
        raise RuntimeError(INSTALL_HINT)
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


# --- page helpers: JavaScript run inside JupyterLab -------------------------------------------

_JS_APP_READY = "() => !!(window.jupyterapp && window.jupyterapp.started && document.querySelector('#main'))"

_JS_OPEN = """async (path) => {
  const app = window.jupyterapp;
  await app.started; await app.restored;
  const w = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await w.context.ready;
  await w.sessionContext.ready;
  app.shell.activateById(w.id);
  window.__nb = w;
  return w.id;
}"""

_JS_KERNEL_IDLE = """() => { const w = window.__nb;
  const k = w && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle'; }"""

_JS_NEW_KERNEL = """async () => { await window.__nb.sessionContext.changeKernel({name: 'python3'}); return true; }"""

_JS_RUN_ALL = """async () => { const app = window.jupyterapp; const w = window.__nb;
  app.shell.activateById(w.id);
  if (app.shell.currentWidget !== w) throw new Error('notebook is not the current widget');
  app.commands.execute('notebook:run-all-cells');
  return true; }"""

# Done when the kernel is idle and every non-empty code cell has run, or when
# a cell raised (Run All stops there).
_JS_RUN_DONE = """() => { const w = window.__nb; const cells = w.content.model.cells;
  let pending = 0, failed = false;
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    for (let j = 0; j < c.outputs.length; j++) if (c.outputs.get(j).type === 'error') failed = true;
    if (c.sharedModel.getSource().trim() && c.executionCount == null) pending++;
  }
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && (pending === 0 || failed); }"""

# The notebook without bulky output data (images, widget state): what problem checks read.
_JS_NOTEBOOK_JSON = """() => { const nb = window.__nb.content.model.toJSON();
  for (const cell of nb.cells) for (const out of (cell.outputs || [])) if (out.data) {
    const plain = out.data['text/plain'];
    out.data = plain === undefined ? {} : {'text/plain': plain};
  }
  return nb; }"""

# Problems visible in the page: stderr/error renderings and widgets that failed to render.
_JS_DOM_PROBLEMS = """() => { const root = window.__nb.node; const found = [];
  for (const el of root.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
    found.push('stderr/error output: ' + el.textContent.slice(0, 300));
  for (const el of root.querySelectorAll('.jp-OutputArea-output'))
    if (/Error displaying widget|Failed to load model class|Could not create view/.test(el.textContent))
      found.push('widget failed to render: ' + el.textContent.slice(0, 300));
  return found; }"""

# Rendered when every widget output of the model has its view in the page, every image output
# has loaded and every ipympl canvas has been drawn on.
_JS_WIDGETS_RENDERED = """() => { const w = window.__nb; const root = w.node; const cells = w.content.model.cells;
  let expected = 0;
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    for (let j = 0; j < c.outputs.length; j++) {
      const data = c.outputs.get(j).data;
      if (data && data['application/vnd.jupyter.widget-view+json']) expected++;
    }
  }
  const views = Array.from(root.querySelectorAll('.jp-OutputArea-output'))
    .filter(el => Array.from(el.children).some(child => child.classList.contains('jupyter-widgets')));
  if (views.length < expected) return false;
  for (const img of root.querySelectorAll('.jp-OutputArea-output img')) if (!img.complete || !img.naturalWidth) return false;
  for (const c of root.querySelectorAll('.jupyter-matplotlib-canvas-div canvas:first-child'))
    if (!window.__canvasDrawn(c)) return false;
  return true; }"""

# What _JS_WIDGETS_RENDERED waits for, as counts (for the message when it times out).
_JS_RENDER_STATE = """() => { const w = window.__nb; const root = w.node; const cells = w.content.model.cells;
  let expected = 0;
  for (let i = 0; i < cells.length; i++) { const c = cells.get(i); if (c.type !== 'code') continue;
    for (let j = 0; j < c.outputs.length; j++) { const data = c.outputs.get(j).data;
      if (data && data['application/vnd.jupyter.widget-view+json']) expected++; } }
  const views = Array.from(root.querySelectorAll('.jp-OutputArea-output'))
    .filter(el => Array.from(el.children).some(child => child.classList.contains('jupyter-widgets'))).length;
  const images = Array.from(root.querySelectorAll('.jp-OutputArea-output img'));
  const canvases = Array.from(root.querySelectorAll('.jupyter-matplotlib-canvas-div canvas:first-child'));
  return {widget_outputs: expected, widget_views: views, images: images.length,
          images_loaded: images.filter(i => i.complete && i.naturalWidth).length,
          canvases: canvases.length, canvases_drawn: canvases.filter(c => window.__canvasDrawn(c)).length,
          canvas_sizes: canvases.map(c => [c.width, c.height])}; }"""

# A canvas counts as drawn when its pixels are not all the same colour.
_JS_INSTALL_HELPERS = """() => {
  window.__canvasDrawn = (c) => {
    if (!c.width || !c.height) return false;
    const d = new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.buffer);
    for (let i = 1; i < d.length; i += 7) if (d[i] !== d[0]) return true;
    return false; };
  window.__pixels = (c) => new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.buffer);
  window.__samePixels = (a, b) => { if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false; return true; };
  return true; }"""

_JS_FIGURE_SUMMARY = """() => { const root = window.__nb.node;
  const outs = Array.from(root.querySelectorAll('.jp-OutputArea-output'));
  return outs.map((el, index) => ({index,
    sliders: el.querySelectorAll('.noUi-handle').length,
    canvases: el.querySelectorAll('.jupyter-matplotlib-canvas-div canvas:first-child').length,
    live: Array.from(el.querySelectorAll('.jupyter-matplotlib-canvas-div canvas:first-child')).every(window.__canvasDrawn),
    images: el.querySelectorAll('img').length,
    labels: Array.from(el.querySelectorAll('.widget-slider .widget-label')).map(l => l.textContent),
  })).filter(o => o.sliders || o.canvases || o.images); }"""

# For each output index: note the first slider's value and arm a watcher that times, from the
# next keydown on that slider, until its canvas's pixels differ.
_JS_ARM_SLIDERS = """([indices, timeoutMs]) => {
  const outs = window.__nb.node.querySelectorAll('.jp-OutputArea-output');
  window.__latencies = [];
  return indices.map((index) => {
    const handle = outs[index].querySelector('.noUi-handle');
    const canvas = outs[index].querySelector('.jupyter-matplotlib-canvas-div canvas');
    const before = window.__pixels(canvas);
    window.__latencies.push(new Promise((resolve) => {
      let t0 = null;
      handle.addEventListener('keydown', () => { t0 = performance.now(); }, {capture: true, once: true});
      const deadline = performance.now() + timeoutMs;
      const tick = () => {
        if (t0 !== null && !window.__samePixels(before, window.__pixels(canvas))) { resolve(performance.now() - t0); return; }
        if (performance.now() > deadline) { resolve(null); return; }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }));
    // aria-valuenow is rounded to one decimal; aria-valuetext has the full value
    return {value: handle.getAttribute('aria-valuetext'),
            atMax: +handle.getAttribute('aria-valuenow') >= +handle.getAttribute('aria-valuemax')};
  }); }"""

_JS_SLIDER_RESULTS = """async (indices) => {
  const latencies = await Promise.all(window.__latencies);
  const outs = window.__nb.node.querySelectorAll('.jp-OutputArea-output');
  return indices.map((index, k) => ({ms: latencies[k],
    value: outs[index].querySelector('.noUi-handle').getAttribute('aria-valuetext')})); }"""


class LabPage:
    """One browser page running JupyterLab, with helpers to open and run notebooks."""

    def __init__(self, browser, server, viewport=(1400, 1000)):
        self.server = server
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        self.page = self.context.new_page()
        self.render_state = None  # what was still missing when wait_widgets_rendered timed out
        self.console = []  # (type, text) of console errors and uncaught page errors
        self.page.on("console", lambda m: m.type == "error" and self.console.append(("console", m.text)))
        self.page.on("pageerror", lambda e: self.console.append(("pageerror", str(e))))

    def load(self, timeout=60):
        self.page.goto(self.server.lab_url())
        self.page.wait_for_function(_JS_APP_READY, timeout=timeout * 1000)
        self.page.evaluate("() => window.jupyterapp.restored")
        # the file browser would take a fifth of the width of every screenshot
        self.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
        self.page.evaluate(_JS_INSTALL_HELPERS)
        return self

    def open_notebook(self, relpath, timeout=60):
        """Open ``relpath`` (relative to the server root) and wait for an idle kernel."""
        # A session still closing for this path would be reused by the new document and then die.
        deadline = time.monotonic() + timeout
        while str(relpath) in self.server.session_paths() and time.monotonic() < deadline:
            time.sleep(0.1)
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        self.page.evaluate(_JS_OPEN, str(relpath))
        try:
            self.page.wait_for_function(_JS_KERNEL_IDLE, timeout=timeout * 1000)
        except PlaywrightTimeout:
            # Seen once on a loaded machine: the new session got no live kernel.
            # Ask for a fresh python3 kernel, as a student would from the Kernel menu.
            self.page.evaluate(_JS_NEW_KERNEL)
            self.page.wait_for_function(_JS_KERNEL_IDLE, timeout=timeout * 1000)

    def run_all(self, timeout=120):
        """Run all cells; return once the kernel is idle and every code cell ran (or one failed)."""
        start = time.perf_counter()
        self.page.evaluate(_JS_RUN_ALL)
        self.page.wait_for_function(_JS_RUN_DONE, timeout=timeout * 1000, polling=100)
        return time.perf_counter() - start

    def wait_widgets_rendered(self, timeout=60):
        """Wait until every widget output has rendered and every canvas is drawn; False on timeout."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(_JS_WIDGETS_RENDERED, timeout=timeout * 1000, polling=100)
        except PlaywrightTimeout:
            self.render_state = self.page.evaluate(_JS_RENDER_STATE)
            return False
        return True

    def notebook(self):
        """The open notebook as an nbformat node; outputs keep only their text (no images)."""
        import nbformat

        return nbformat.from_dict(self.page.evaluate(_JS_NOTEBOOK_JSON))

    def kernel_eval(self, setup, expression, timeout=30):
        """Run ``setup`` quietly in the notebook's kernel and return ``expression``'s value (via repr)."""
        import ast

        js = """async ([code, expr]) => { const k = window.__nb.sessionContext.session.kernel;
          const future = k.requestExecute({code, silent: true, store_history: false, user_expressions: {r: expr}});
          const reply = await future.done; const c = reply.content;
          if (c.status !== 'ok') return {error: c.ename + ': ' + c.evalue};
          const r = c.user_expressions.r;
          return r.status === 'ok' ? {value: r.data['text/plain']} : {error: r.ename + ': ' + r.evalue}; }"""
        result = self.page.evaluate(js, [setup, expression])
        if "error" in result:
            raise RuntimeError(f"kernel raised {result['error']}")
        return ast.literal_eval(result["value"])

    def dom_problems(self):
        return self.page.evaluate(_JS_DOM_PROBLEMS)

    def figures(self):
        """Summary of every output that holds sliders, ipympl canvases or images."""
        return self.page.evaluate(_JS_FIGURE_SUMMARY)

    def _output(self, index):
        return self.page.locator(f"#{self._nb_id()} .jp-OutputArea-output").nth(index)

    def _nb_id(self):
        return self.page.evaluate("() => window.__nb.id")

    def press_sliders(self, output_indices, presses=1, timeout=20):
        """Press an arrow key on the first slider of each output; time until its canvas changes.

        The keys are real keyboard events on the focused slider handle. All
        sliders are pressed first and then awaited together, so the wait is
        the slowest round trip, not the sum. Returns, per output,
        ``(milliseconds, or None if the canvas did not change within
        timeout; whether the slider's value moved)``.
        """
        indices = list(output_indices)
        before = self.page.evaluate(_JS_ARM_SLIDERS, [indices, timeout * 1000])
        for index, state in zip(indices, before):
            handle = self._output(index).locator(".noUi-handle").first
            for _ in range(presses):
                handle.press("ArrowLeft" if state["atMax"] else "ArrowRight")
        after = self.page.evaluate(_JS_SLIDER_RESULTS, indices)
        return [(a["ms"], a["value"] != b["value"]) for a, b in zip(after, before)]

    def slider_latency(self, output_index, presses=1, timeout=20):
        """:meth:`press_sliders` for one output: ``(milliseconds or None, moved)``."""
        return self.press_sliders([output_index], presses, timeout)[0]

    def screenshot_output(self, output_index, path):
        out = self._output(output_index)
        out.scroll_into_view_if_needed()
        out.wait_for(state="visible")
        # JupyterLab renders the cells of a scrolled notebook lazily: let two
        # frames pass so the screenshot shows them rather than an empty panel.
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))

    def close_notebook(self):
        """Close the notebook without saving and shut its kernel down."""
        # The DELETE request is sent at once; the server stops the kernel in the background
        # while the next notebook opens (awaiting it costs seconds per notebook).
        self.page.evaluate("""() => { const w = window.__nb; if (!w) return;
          const session = w.sessionContext.session;
          if (session) window.jupyterapp.serviceManager.sessions.shutdown(session.id);
          w.context.model.dirty = false; w.dispose(); window.__nb = null; }""")

    def close(self):
        self.context.close()
