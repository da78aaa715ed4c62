"""Each grading limit is declared once, in ``Limits``: the CLI options and the README table come from it."""

from dataclasses import fields
from pathlib import Path

import pytest

from nablakit.grading.cli import build_parser
from nablakit.grading.limits import Limits, format_default, limits_from_args, limits_table

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_limits_table():
    text = README.read_text(encoding="utf-8")
    start = text.index("| option | default | when exceeded |")
    return text[start:text.index("\n\n", start)]


def test_readme_limits_table_is_the_generated_one():
    table = _readme_limits_table()
    assert table == limits_table(), "paste nablakit.grading.limits.limits_table() into the README"
    rows = table.splitlines()[2:]
    assert [row.split("`")[1] for row in rows] == [f.metadata["option"] for f in fields(Limits)]
    for row, f in zip(rows, fields(Limits)):
        assert f"| {format_default(f)} |" in row


def test_every_field_has_one_option_with_its_default_and_help():
    parser = build_parser()
    help_text = " ".join(parser.format_help().split())
    for f in fields(Limits):
        assert f.metadata["option"] in help_text
        assert " ".join(f.metadata["help"].split()) in help_text
    assert limits_from_args(parser.parse_args([])) == Limits()


@pytest.mark.parametrize("argv, expected", [
    (["--cell-timeout", "5", "--notebook-timeout", "60.5"], {"cell_timeout": 5.0, "notebook_timeout": 60.5}),
    (["--memory", "1.5GB"], {"memory": 1610612736}),
    (["--memory", "none"], {"memory": None}),
    (["--max-output", "512K"], {"max_output": 512 * 1024}),
    (["--max-output", "none"], {}),  # cannot be lifted: back to the default, as before
    (["--max-notebook-size", "1M"], {"max_notebook_bytes": 1024**2}),
])
def test_options_build_limits(argv, expected):
    limits = limits_from_args(build_parser().parse_args(argv))
    assert limits.to_dict() == {**Limits().to_dict(), **expected}


@pytest.mark.parametrize("argv", [["--memory", "lots"], ["--memory", "1M"], ["--cell-timeout", "0"]])
def test_bad_limits_are_value_errors(argv):
    with pytest.raises(ValueError):
        limits_from_args(build_parser().parse_args(argv))


def test_cli_reports_a_bad_limit_with_status_2(capsys):
    from nablakit.grading.cli import main

    assert main(["--memory", "lots"]) == 2
    assert "size must look like" in capsys.readouterr().err


def test_cell_timeout_is_whole_seconds_for_nbgrader():
    assert Limits(cell_timeout=0.2).cell_timeout_seconds == 1
    assert Limits(cell_timeout=2.6).cell_timeout_seconds == 3
