import subprocess
import sys

import pytest

import expfam
from expfam.cli import main


def test_help_lists_the_three_commands():
    from expfam.cli import build_parser

    text = build_parser().format_help()
    for command in ("verify", "figures", "reproduce"):
        assert command in text


def test_python_dash_m_expfam_is_the_command():
    out = subprocess.run(
        [sys.executable, "-m", "expfam", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"expfam {expfam.__version__}"


def test_version_prints_the_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"expfam {expfam.__version__}"


def _one_line_and_status_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""  # nothing ran
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_verify_with_a_missing_path_fails_at_once_with_one_line(capsys, tmp_path, monkeypatch):
    """Issue 12: it crashed with a traceback after running every check."""
    line = _one_line_and_status_2(
        ["verify", "--json", "out.json", "no/such/folder"], capsys, tmp_path, monkeypatch
    )
    assert "no/such/folder" in line
    assert not (tmp_path / "out.json").exists()


def test_verify_with_json_in_a_missing_folder_fails_at_once(capsys, tmp_path, monkeypatch):
    (tmp_path / "derivations").mkdir()
    line = _one_line_and_status_2(
        ["verify", "--json", "no/such/dir/out.json", "derivations"], capsys, tmp_path, monkeypatch
    )
    assert "--json" in line


def test_figures_out_naming_a_file_is_one_line_and_status_2(capsys, tmp_path, monkeypatch):
    """Issue 12: --out naming a file (or a place that cannot be written) was a traceback."""
    (tmp_path / "taken").write_text("not a folder")
    line = _one_line_and_status_2(["figures", "--out", "taken"], capsys, tmp_path, monkeypatch)
    assert "taken" in line and "file" in line
    line = _one_line_and_status_2(
        ["figures", "--out", "taken/figs"], capsys, tmp_path, monkeypatch
    )
    assert "taken/figs" in line


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (["--seed", "-1"], "--seed: expected a non-negative integer, got -1"),
        (["--points", "-1"], "--points: expected a positive integer, got -1"),
        (["--points", "0"], "--points: expected a positive integer, got 0"),
        (["--timeout", "-1"], "--timeout: expected a positive number of seconds, got -1"),
        (["--timeout", "nan"], "--timeout: expected a positive number of seconds, got nan"),
        (["--jobs", "0"], "--jobs: expected a positive integer, got 0"),
        (["--jobs", "-2"], "--jobs: expected a positive integer, got -2"),
    ],
)
def test_verify_with_a_bad_option_is_one_line_and_status_2(
    option, expected, capsys, tmp_path, monkeypatch
):
    line = _one_line_and_status_2(["verify", *option], capsys, tmp_path, monkeypatch)
    assert line == f"expfam verify: {expected}"


def test_verify_with_json_naming_a_folder_fails_at_once(capsys, tmp_path, monkeypatch):
    (tmp_path / "derivations").mkdir()
    (tmp_path / "out").mkdir()
    line = _one_line_and_status_2(
        ["verify", "--json", "out", "derivations"], capsys, tmp_path, monkeypatch
    )
    assert line == "expfam verify: --json: expected a file to write, got the folder out"
