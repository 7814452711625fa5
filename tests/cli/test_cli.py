import subprocess
import sys


def test_import_expfam_does_not_load_sympy_or_matplotlib():
    code = (
        "import sys, expfam; "
        "print(' '.join(m for m in ('sympy', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_help_lists_the_three_commands():
    from expfam.cli import build_parser

    text = build_parser().format_help()
    for command in ("verify", "figures", "reproduce"):
        assert command in text
