"""Work nbgrader repeats for every submission, done once per grading worker instead.

A grading worker imports nbgrader once and forks one grading process per
submission (:mod:`nablakit.grading.worker`). Two costs of nbgrader's
autograde are the same for every submission and are paid again in each
fresh process; they are moved before the fork, so every grading process
inherits them ready-made. Neither changes what nbgrader computes:

- :func:`cache_json_schemas`: nbgrader checks each cell's metadata with
  ``jsonschema.validate(metadata, schema)``, which first re-validates the
  (constant) schema itself, once per cell and pass. The replacement builds
  the validator once per distinct schema and raises the same errors.
- :func:`share_engines`: every ``nbgrader.api.Gradebook`` creates its own
  SQLAlchemy engine (about ten per submission), so every SQL statement is
  compiled again each time. Gradebooks of one process share one engine per
  database URL, and :func:`warm_gradebook` compiles the read queries of
  autograding once, before the fork. Connections never cross a fork: the
  pool is emptied first (:func:`before_fork`). SQLite connections wait up to
  60 s for the database lock (instead of 5 s), as several grading
  processes write to the one gradebook file.
"""

from __future__ import annotations

import json

__all__ = ["cache_json_schemas", "share_engines", "warm_gradebook", "before_fork", "install"]

_ENGINES = {}


def cache_json_schemas():
    """Make ``jsonschema.validate`` reuse one validator per schema (same results, same errors).

    Examples
    --------
    >>> import jsonschema
    >>> cache_json_schemas()
    >>> jsonschema.validate({"a": 1}, {"type": "object", "properties": {"a": {"type": "integer"}}})
    >>> jsonschema.validate({"a": "x"}, {"type": "object", "properties": {"a": {"type": "integer"}}})
    Traceback (most recent call last):
    ...
    jsonschema.exceptions.ValidationError: 'x' is not of type 'integer'
    ...
    """
    import jsonschema
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    real = getattr(jsonschema.validate, "__wrapped__", jsonschema.validate)
    validators = {}

    def validate(instance, schema, cls=None, *args, **kwargs):
        if cls is not None or args or kwargs:
            return real(instance, schema, cls, *args, **kwargs)
        key = json.dumps(schema, sort_keys=True, default=str)
        validator = validators.get(key)
        if validator is None:
            klass = validator_for(schema)
            klass.check_schema(schema)
            validator = validators[key] = klass(schema)
        error = best_match(validator.iter_errors(instance))
        if error is not None:
            raise error

    validate.__wrapped__ = real
    jsonschema.validate = validate


def share_engines():
    """Let every nbgrader ``Gradebook`` of this process use one SQLAlchemy engine per database URL."""
    import nbgrader.api as api

    real = getattr(api.create_engine, "__wrapped__", api.create_engine)

    def create_engine(url, *args, **kwargs):
        if str(url).startswith("sqlite") and "connect_args" not in kwargs:
            # several grading processes write to one SQLite file: wait for its lock instead of failing
            kwargs["connect_args"] = {"timeout": 60}
        key = (str(url), args, repr(sorted(kwargs.items())))
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = real(url, *args, **kwargs)
        return engine

    create_engine.__wrapped__ = real
    api.create_engine = create_engine


def warm_gradebook(db_url, course_id, assignment):
    """Run the read queries of autograding ``assignment`` once, so their SQL is compiled before any fork."""
    from nbgrader.api import Gradebook, MissingEntry

    try:
        with Gradebook(db_url, course_id) as gb:
            found = gb.find_assignment(assignment)
            for nb in found.notebooks:
                gb.find_notebook(nb.name, assignment)
                for cell in nb.source_cells:
                    gb.find_source_cell(cell.name, nb.name, assignment)
                for cell in nb.grade_cells:
                    gb.find_graded_cell(cell.name, nb.name, assignment)
                list(nb.solution_cells), list(nb.task_cells)
            for submission in found.submissions[:1]:
                student = submission.student.id
                gb.find_student(student)
                gb.find_submission(assignment, student)
                for nb in submission.notebooks:
                    gb.find_submission_notebook(nb.name, assignment, student)
                    for grade in nb.grades:
                        grade.score, grade.max_score, grade.needs_manual_grade
                    list(nb.comments)
                submission.score, submission.max_score, submission.needs_manual_grade
    except (MissingEntry, Exception):  # noqa: BLE001 - a warm-up never stops grading
        pass
    finally:
        before_fork()


def before_fork():
    """Close pooled database connections so that no connection is shared with a forked process."""
    for engine in _ENGINES.values():
        engine.dispose()


def install():
    """Apply both speed-ups (idempotent)."""
    cache_json_schemas()
    share_engines()
