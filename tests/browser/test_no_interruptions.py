"""A student's JupyterLab never interrupts: no news prompt, no "Select Kernel" dialog.

One fresh JupyterLab (started like every browser test's, so with the venv's
lab settings, ``autograder/student_lab_overrides.json`` installed as
``overrides.json`` by ``make setup``) and one page, loaded once on chapter 00
as `make lab` and the Binder badge open it. Every chapter is opened the way a
click in the file browser opens it, run with "Run All Cells" and left open, so the last chapters open beside nine busy kernels
(the "Select Kernel" dialog was once seen on opening chapter 05 after four
others). From before the first page load, a watcher in the page records every
dialog and every notification toast that appears; the test fails on any, and
checks that each chapter got its own live ``python3`` kernel without help.
"""

import time
from pathlib import Path

import pytest

from browser.lab import ROOT, LabServer, browser_missing_part
from system_parts import skip_reason

if browser_missing_part():
    pytest.skip(skip_reason(*browser_missing_part()), allow_module_level=True)

pytestmark = pytest.mark.xdist_group("browser")

CHAPTERS = sorted((ROOT / "course").glob("[0-9][0-9]-*.ipynb"))
KERNEL_TIMEOUT = 90
RUN_TIMEOUT = 120

# Runs before any JupyterLab script: records dialogs and toasts the moment they are added.
_JS_WATCH = """(() => {
  window.__interruptions = [];
  const seen = new WeakSet();
  const record = (kind, el) => { if (seen.has(el)) return; seen.add(el);
    window.__interruptions.push({kind, text: (el.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 300),
                                 at: Math.round(performance.now())}); };
  const scan = (root) => {
    if (!(root instanceof Element)) return;
    for (const el of [root, ...root.querySelectorAll('.jp-Dialog, .Toastify__toast')]) {
      if (el.classList.contains('jp-Dialog')) record('dialog', el);
      else if (el.classList.contains('Toastify__toast')) record('toast', el);
    }
  };
  new MutationObserver((muts) => { for (const m of muts) for (const n of m.addedNodes) scan(n); })
    .observe(document, {childList: true, subtree: true});
})();"""

_JS_READY = "() => !!(window.jupyterapp && window.jupyterapp.started && document.querySelector('#main'))"

# What a double click in the file browser does (docmanager:open with the default factory);
# nothing here starts or chooses a kernel.
_JS_OPEN = """async (path) => { const app = window.jupyterapp;
  const w = await app.commands.execute('docmanager:open', {path});
  await w.context.ready;
  (window.__opened = window.__opened || {})[path] = w;
  return w.id; }"""

_JS_KERNEL = """(path) => { const w = window.__opened[path]; const s = w.sessionContext.session;
  const k = s && s.kernel;
  return {name: k ? k.name : null, id: k ? k.id : null, status: k ? k.status : null,
          connection: k ? k.connectionStatus : null, display: w.sessionContext.kernelDisplayName}; }"""

_JS_KERNEL_IDLE_OR_DIALOG = """(path) => { if (document.querySelector('.jp-Dialog')) return true;
  const w = window.__opened[path]; const s = w.sessionContext.session; const k = s && s.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle'; }"""

_JS_RUN_ALL = """async (path) => { const app = window.jupyterapp; const w = window.__opened[path];
  app.shell.activateById(w.id);
  await app.commands.execute('notebook:run-all-cells');
  return true; }"""

_JS_RUN_DONE_OR_DIALOG = """(path) => { if (document.querySelector('.jp-Dialog')) return true;
  const w = window.__opened[path]; const cells = w.content.model.cells;
  let pending = 0, failed = false;
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    for (let j = 0; j < c.outputs.length; j++) if (c.outputs.get(j).type === 'error') failed = true;
    if (c.sharedModel.getSource().trim() && c.executionCount == null) pending++;
  }
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && (pending === 0 || failed); }"""

# A student closing a chapter's tab (nothing to save: the test keeps the chapters unchanged).
_JS_CLOSE = """(path) => { const w = window.__opened[path]; w.context.model.dirty = false;
  w.close(); return true; }"""

_JS_STATUS = """() => ({interruptions: window.__interruptions,
  dialogs: Array.from(document.querySelectorAll('.jp-Dialog')).map(d => d.textContent.replace(/\\s+/g, ' ').trim()),
  unread: (document.querySelector('.jp-Notification-Status') || {textContent: ''}).textContent.trim()})"""


def kernel_memory_mb(server):
    """Resident memory (MB) of each kernel process that ``server`` started."""
    sizes = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = dict(line.split(":", 1) for line in (proc / "status").read_text().splitlines() if ":" in line)
            if int(status["PPid"]) != server.proc.pid or b"ipykernel_launcher" not in (proc / "cmdline").read_bytes():
                continue
        except (OSError, KeyError, ValueError):
            continue
        sizes.append(int(status["VmRSS"].split()[0]) / 1024)
    return sorted(sizes)


@pytest.fixture(scope="module")
def fresh_lab(browser):
    """A JupyterLab nobody has opened yet (fresh user settings) and one page on it."""
    server = LabServer(ROOT)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(_JS_WATCH)
    page = context.new_page()
    try:
        # as `make lab` (default_url) and the Binder badge (urlpath) start: on chapter 00
        page.goto(server.lab_url(str(CHAPTERS[0].relative_to(ROOT))))
        page.wait_for_function(_JS_READY, timeout=60_000)
        page.evaluate("() => window.jupyterapp.restored")
        yield server, page
    finally:
        context.close()
        server.stop()


def test_every_chapter_opens_with_its_own_kernel_and_nothing_interrupts(fresh_lab):
    server, page = fresh_lab
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    kernels, problems, timings = {}, [], []
    for chapter in CHAPTERS:
        path = str(chapter.relative_to(ROOT))
        start = time.perf_counter()
        page.evaluate(_JS_OPEN, path)
        try:
            page.wait_for_function(_JS_KERNEL_IDLE_OR_DIALOG, arg=path, timeout=KERNEL_TIMEOUT * 1000, polling=100)
        except PlaywrightTimeout:
            problems.append(f"{path}: no idle kernel within {KERNEL_TIMEOUT} s: {page.evaluate(_JS_KERNEL, path)}")
            break
        kernel_seconds = time.perf_counter() - start
        status = page.evaluate(_JS_STATUS)
        if status["dialogs"]:
            problems.append(f"{path}: dialog on opening: {status['dialogs']}")
            break
        kernels[path] = page.evaluate(_JS_KERNEL, path)
        # Run the chapter, as a student does, and leave it open: its kernel stays alive.
        page.evaluate(_JS_RUN_ALL, path)
        try:
            page.wait_for_function(_JS_RUN_DONE_OR_DIALOG, arg=path, timeout=RUN_TIMEOUT * 1000, polling=200)
        except PlaywrightTimeout:
            problems.append(f"{path}: Run All did not finish within {RUN_TIMEOUT} s")
            break
        timings.append(f"{chapter.stem}: kernel idle {kernel_seconds:.1f} s, "
                       f"run {time.perf_counter() - start - kernel_seconds:.1f} s")
        if page.evaluate(_JS_STATUS)["dialogs"]:
            break
    # Give a late toast (the news prompt waits for the app to be restored) time to show up.
    page.wait_for_timeout(1000)
    status = page.evaluate(_JS_STATUS)
    memory = kernel_memory_mb(server)
    timings.append(f"{len(memory)} kernels, resident memory {sum(memory):.0f} MB in all, "
                   f"{min(memory, default=0):.0f}-{max(memory, default=0):.0f} MB each")
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    (ROOT / "test-artifacts" / "no-interruptions.txt").write_text("\n".join(timings) + "\n")

    assert not problems, "\n".join(problems) + f"\nserver log:\n{server.log_tail()}"
    assert status["interruptions"] == [], f"JupyterLab interrupted the student: {status['interruptions']}"
    assert status["unread"] in ("", "0"), f"unread notifications in the status bar: {status['unread']!r}"
    assert list(kernels) == [str(c.relative_to(ROOT)) for c in CHAPTERS]
    for path, kernel in kernels.items():
        assert kernel["name"] == "python3", f"{path} got kernel {kernel}"
        assert kernel["connection"] == "connected", f"{path}: {kernel}"
    ids = [k["id"] for k in kernels.values()]
    assert len(set(ids)) == len(ids), f"chapters share a kernel: {kernels}"
    # all ten kernels are still alive on the server
    running = {k["id"] for k in server.api("kernels")}
    assert set(ids) <= running, f"kernels gone from the server: {set(ids) - running}"

    # Closing a chapter's tab shuts its kernel down (the course's kernelShutdown setting),
    # so a student who closes chapters as they go does not pile up kernels.
    first = str(CHAPTERS[0].relative_to(ROOT))
    page.evaluate(_JS_CLOSE, first)
    deadline = time.monotonic() + 30
    while kernels[first]["id"] in {k["id"] for k in server.api("kernels")} and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernels[first]["id"] not in {k["id"] for k in server.api("kernels")}, "closing the tab left its kernel running"
    assert page.evaluate(_JS_STATUS)["interruptions"] == [], "closing a chapter asked something"
