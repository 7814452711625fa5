import subprocess
import sys


def test_help_lists_the_three_commands():
    from expfam.cli import build_parser

    text = build_parser().format_help()
    for command in ("verify", "figures", "reproduce"):
        assert command in text


def test_python_dash_m_expfam_is_the_command():
    import expfam

    out = subprocess.run(
        [sys.executable, "-m", "expfam", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"expfam {expfam.__version__}"
