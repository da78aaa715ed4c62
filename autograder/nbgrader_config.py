"""nbgrader configuration for the gradients course.

Run the ``nbgrader`` commands from this folder (``cd autograder``); the course
root is the project root, so ``solutions/`` is the source and ``exercises/``
the release, while everything an instructor produces stays under
``autograder/``.
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, GetGrades

c = get_config()  # noqa: F821 - injected by traitlets

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = os.environ.get("NBGRADER_COURSE_ID", "gradients")
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = os.path.join("autograder", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("autograder", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("autograder", "feedback")
# The gradebook is local and never committed; set NBGRADER_DB_URL for PostgreSQL.
c.CourseDirectory.db_url = os.environ.get(
    # timeout: several grading processes may wait for SQLite's write lock.
    "NBGRADER_DB_URL", "sqlite:///" + os.path.join(HERE, "gradebook.db") + "?timeout=60"
)
# Local exchange for a single machine; a JupyterHub uses a shared path instead.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", os.path.join(HERE, "exchange"))
os.makedirs(c.Exchange.root, exist_ok=True)

# A deleted test cell is put back from the source, not silently lost.
c.OverwriteCells.add_missing_cells = True
# One runaway cell must not stall a whole class: seconds per cell.
c.Execute.timeout = int(os.environ.get("NBGRADER_CELL_TIMEOUT", "30"))
c.Execute.interrupt_on_timeout = True
# Feedback never shows hidden tests or the instructor's marking scheme.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    ClearHiddenTests,
    ClearMarkScheme,
    CSSHTMLHeaderPreprocessor,
]
c.ClearHiddenTests.enforce_metadata = True
