"""Grade reports of a batch: CSV files and an HTML summary per exercise.

- ``<exercise>-grades.csv``: one row per student, one column per graded
  part (its nbgrader ``grade_id``), the autograded total, the status and the
  reason a submission could not be graded;
- ``class-grades.csv``: one row per student, one column per exercise;
- ``<exercise>.html``: a histogram of the autograded scores (an inline PNG),
  the pass rate of every part, the most common misconceptions named by the
  checks ("Recognised mistake: ...") and failure messages, and the
  submissions that were not graded or were flagged.

Pure functions compute the tables (:func:`part_pass_rates`,
:func:`misconception_counts`, :func:`failure_counts`); the ``write_*``
functions only format and write them.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from collections import Counter
from pathlib import Path

from .batch import NO_SANDBOX_WARNING, breaches_of, flags_of

__all__ = [
    "part_order",
    "part_pass_rates",
    "misconception_counts",
    "failure_counts",
    "histogram_png",
    "write_grades_csv",
    "write_class_csv",
    "write_html",
    "write_reports",
]

_MISTAKE = re.compile(r"Recognised mistake:\s*(.+?)\.(?=\s|$)")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?!\w)")


def part_order(release_dir):
    """The ``grade_id`` of every graded cell of the released notebooks, in notebook order.

    Examples
    --------
    >>> part_order("/no/such/folder")
    []
    """
    order = []
    for path in sorted(Path(release_dir).glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and meta.get("grade_id"):
                order.append(meta["grade_id"])
    return order


def _parts(results, order=()):
    seen = list(order)
    for r in results:
        seen += [p for p in r.get("parts", {}) if p not in seen]
    return seen


def part_pass_rates(results, order=()):
    """Per part: (students with full marks, students graded, max points), autograded parts only.

    Examples
    --------
    >>> rows = [{"status": "graded", "parts": {"a": [1.0, 1.0, False, "code"]}},
    ...         {"status": "graded", "parts": {"a": [0.0, 1.0, False, "code"]}}]
    >>> part_pass_rates(rows)
    {'a': (1, 2, 1.0)}
    """
    rates = {}
    graded = [r for r in results if r.get("status") == "graded"]
    for part in _parts(graded, order):
        cells = [r["parts"][part] for r in graded if part in r.get("parts", {})]
        cells = [c for c in cells if c[3] == "code"]
        if cells:
            full = sum(1 for c in cells if c[0] is not None and c[0] >= c[1])
            rates[part] = (full, len(cells), float(cells[0][1]))
    return rates


def misconception_counts(results):
    """How many students each named misconception was recognised in (per part).

    Returns
    -------
    collections.Counter of (part, misconception) -> number of students

    Examples
    --------
    >>> rows = [{"messages": {"p": ["AssertionError: x is wrong. Recognised mistake: sign flipped. (hidden check)"]}}]
    >>> misconception_counts(rows)
    Counter({('p', 'sign flipped'): 1})
    """
    counts = Counter()
    for r in results:
        for part, messages in r.get("messages", {}).items():
            names = {m.group(1).strip() for text in messages for m in _MISTAKE.finditer(text)}
            for name in names:
                counts[(part, name)] += 1
    return counts


def _generic(message):
    text = message.split("; received")[0].split(" Recognised mistake")[0]
    text = text.replace(" (hidden check)", "")
    return _NUMBER.sub("#", text).strip()[:200]


def failure_counts(results):
    """How many students failed each part with the same message (numbers replaced by #).

    Examples
    --------
    >>> rows = [{"messages": {"p": ["AssertionError: f(1.5) should have shape (2,); received list"]}},
    ...         {"messages": {"p": ["AssertionError: f(2) should have shape (2,); received float 3"]}}]
    >>> failure_counts(rows).most_common(1)
    [(('p', 'AssertionError: f(#) should have shape (#,)'), 2)]
    >>> failure_counts([{"messages": {"q": ["NameError: name 'grad_f_at_110' is not defined"]}}])
    Counter({('q', "NameError: name 'grad_f_at_110' is not defined"): 1})
    """
    counts = Counter()
    for r in results:
        for part, messages in r.get("messages", {}).items():
            for text in {_generic(m) for m in messages}:
                counts[(part, text)] += 1
    return counts


def histogram_png(scores, max_score, title):
    """A PNG (bytes) of the score histogram, drawn with Matplotlib's Agg backend.

    Examples
    --------
    >>> histogram_png([1, 2, 2, 10], 10, "ex01").startswith(b"\\x89PNG")
    True
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    try:
        from nablakit.plotting import PALETTE

        colour = PALETTE["blue"]
    except ImportError:  # pragma: no cover
        colour = "#0072B2"
    fig = Figure(figsize=(6, 3.2), dpi=100)
    ax = fig.subplots()
    top = max(float(max_score or 0), max(scores, default=0), 1.0)
    bins = [x - 0.5 for x in range(int(top) + 2)] if top <= 30 else 20
    ax.hist(list(scores), bins=bins, color=colour, edgecolor="white")
    ax.set_xlabel("autograded score (points)")
    ax.set_ylabel("students")
    ax.set_title(title)
    ax.set_xlim(-0.5, top + 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _fmt(value):
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def write_grades_csv(results, path, order=()):
    """One row per student of one exercise: every part, the total, status and reason."""
    parts = _parts(results, order)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", *parts, "auto_score", "auto_max", "total", "needs_manual_grade", "status",
                         "reason", "flags", "checks"])
        for r in sorted(results, key=lambda r: r["student"]):
            cells = r.get("parts", {})
            writer.writerow([
                r["student"],
                *[_fmt(cells[p][0]) if p in cells else "" for p in parts],
                _fmt(r.get("auto_score")), _fmt(r.get("auto_max")), _fmt(r.get("score")),
                "" if r["status"] != "graded" else str(bool(r.get("needs_manual"))).lower(),
                r["status"], r.get("reason") or "", " | ".join(flags_of(r)), r.get("checks", ""),
            ])
    return path


def write_class_csv(results, path):
    """One row per student, one column per exercise (autograded score), and the total."""
    exercises = sorted({r["assignment"] for r in results})
    table = {}
    for r in results:
        table.setdefault(r["student"], {})[r["assignment"]] = r.get("auto_score") if r["status"] == "graded" else None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", *exercises, "total"])
        for student in sorted(table):
            row = table[student]
            total = sum(v for v in row.values() if v is not None)
            writer.writerow([student, *[_fmt(row.get(e)) for e in exercises], _fmt(total)])
    return path


def write_html(results, assignment, path, order=(), sandbox_info=""):
    """A self-contained HTML summary of one exercise (``sandbox_info``: which bubblewrap ran the kernels)."""
    esc = html.escape
    graded = [r for r in results if r["status"] == "graded"]
    scores = [r.get("auto_score") or 0.0 for r in graded]
    top = max((r.get("auto_max") or 0 for r in graded), default=0)
    png = base64.b64encode(histogram_png(scores, top, f"{assignment}: autograded scores")).decode()
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(assignment)} grading summary</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.4}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2rem .5rem;text-align:left}"
        "td.n{text-align:right}</style></head><body>",
        f"<h1>{esc(assignment)}</h1>",
        *([f"<p role='alert'><strong>{esc(NO_SANDBOX_WARNING)}</strong></p>"]
          if any(r.get("sandbox") is False for r in results) else []),
        f"<p>{len(results)} submissions: {len(graded)} graded, {len(results) - len(graded)} not graded.",
    ]
    modes = sorted({r.get("checks") for r in results if r.get("checks")})
    if modes:
        out.insert(-1, "<p>Test cells ran " + " and ".join(
            "outside the students' kernels (only data crossed)" if m == "split"
            else "inside the students' kernels (--in-kernel-checks)" for m in modes) + ".</p>")
    if scores:
        mean = sum(scores) / len(scores)
        out.append(f" Mean autograded score {mean:.2f} of {top:g}.")
    out.append("</p>")
    if sandbox_info:
        out.append(f"<p>{esc(sandbox_info[:1].upper() + sandbox_info[1:])}.</p>")
    out.append(f"<figure><img alt='Histogram of the autograded scores of {esc(assignment)}' "
               f"src='data:image/png;base64,{png}'><figcaption>Students per autograded score "
               "(manually graded parts not included).</figcaption></figure>")
    out.append("<h2>Pass rate per part</h2><table><tr><th>part</th><th>points</th><th>full marks</th>"
               "<th>rate</th></tr>")
    for part, (full, n, points) in part_pass_rates(results, order).items():
        out.append(f"<tr><td>{esc(part)}</td><td class='n'>{points:g}</td><td class='n'>{full} / {n}</td>"
                   f"<td class='n'>{100 * full / n:.0f}%</td></tr>")
    out.append("</table>")
    mistakes = misconception_counts(graded).most_common(10)
    out.append("<h2>Most common misconceptions</h2>")
    if mistakes:
        out.append("<table><tr><th>part</th><th>misconception recognised by the checks</th><th>students</th></tr>")
        out += [f"<tr><td>{esc(p)}</td><td>{esc(m)}</td><td class='n'>{c}</td></tr>" for (p, m), c in mistakes]
        out.append("</table>")
    else:
        out.append("<p>No named misconception was recognised.</p>")
    failures = failure_counts(graded).most_common(10)
    if failures:
        out.append("<h2>Most common failure messages</h2><table><tr><th>part</th><th>message</th>"
                   "<th>students</th></tr>")
        out += [f"<tr><td>{esc(p)}</td><td>{esc(m)}</td><td class='n'>{c}</td></tr>" for (p, m), c in failures]
        out.append("</table>")
    failed = [r for r in results if r["status"] != "graded"]
    if failed:
        out.append("<h2>Not graded</h2><ul>")
        out += [f"<li>{esc(r['student'])}: {esc(r.get('reason') or '')}</li>" for r in failed]
        out.append("</ul>")
    breached = [r for r in results if breaches_of(r)]
    if breached:
        out.append("<h2>Integrity: reached outside the sandbox or tampered with grading</h2><ul>")
        for r in breached:
            items = "".join(f"<li>{esc(f)}</li>" for f in breaches_of(r))
            out.append(f"<li>{esc(r['student'])}<ul>{items}</ul></li>")
        out.append("</ul>")
    flagged = [r for r in results if flags_of(r)]
    if flagged:
        out.append("<h2>Flagged</h2><ul>")
        for r in flagged:
            items = "".join(f"<li>{esc(f)}</li>" for f in flags_of(r))
            out.append(f"<li>{esc(r['student'])}<ul>{items}</ul></li>")
        out.append("</ul>")
    out.append("</body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def write_reports(batch, course, folder):
    """All reports of a batch into ``folder``; returns the written paths."""
    folder = Path(folder)
    written = []
    for assignment, rows in batch.by_assignment().items():
        order = part_order(course.path("release", ".", assignment))
        written.append(write_grades_csv(rows, folder / f"{assignment}-grades.csv", order))
        written.append(write_html(rows, assignment, folder / f"{assignment}.html", order,
                                  batch.sandbox_info))
    written.append(write_class_csv(batch.results, folder / "class-grades.csv"))
    return written
