"""Tools around nbgrader for the course's graded exercises.

- ``release``: regenerate ``exercises/`` from ``solutions/`` with
  ``nbgrader generate_assignment`` (``make exercises``).
- ``submission``: build a student submission from a released notebook by
  filling answer cells, for tests and for instructors' own trial runs.

All nbgrader commands run in the course's ``autograder/`` folder, where
``nbgrader_config.py`` lives, with the interpreter's ``bin/`` first on
``PATH`` (nbgrader shells out to ``alembic``).
"""
