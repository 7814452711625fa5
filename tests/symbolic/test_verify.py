"""``expfam verify``: selection, sampling, time limits, the folder, the legend, processes."""

import json
import re
import textwrap

from expfam.cli import main
from expfam.symbolic import Logits, run_verify

TWO = '''
"""Two checks: a sigmoid that holds and a log-sum-exp off by a sign."""
import numpy as np
import sympy
import expfam
from expfam.symbolic import Arg, Check, Logits, logsumexp, softmax

def checks():
    z = sympy.symbols("z1:3", real=True)
    yield Check("sigmoid", "softmax((z1, z2))_1", [Arg(z, Logits())], softmax(z)[0],
                numeric=lambda z: expfam.sigmoid(z[0] - z[1]), rtol=1e-11)
    yield Check("lse", "logsumexp", [Arg(z, Logits())], logsumexp(z),
                numeric=lambda z: -np.logaddexp(z[0], z[1]))
'''

FALSE = '''
"""A false claim."""
import sympy
from expfam.symbolic import Arg, Check, Reals

def checks():
    w = sympy.Symbol("w", real=True)
    yield Check("sin8", "sin(8 pi w) = 0", [Arg(w, Reals())], sympy.sin(8 * sympy.pi * w), 0)
'''

SLOW = '''
"""A check that hangs."""
import time
import sympy
from expfam.symbolic import Arg, Check, Reals

def checks():
    w = sympy.Symbol("w", real=True)
    yield Check("hangs", "w = w", [Arg(w, Reals())], w, numeric=lambda w: time.sleep(60) or w)
'''


def folder(tmp_path, **modules):
    for name, text in modules.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(text))
    return tmp_path


def run(capsys, *args):
    status = main(["verify", *map(str, args)])
    return status, capsys.readouterr().out


def test_the_folder_used_and_the_legend_are_printed(tmp_path, capsys):
    status, out = run(capsys, folder(tmp_path, a=TWO), "--jobs", "1")
    assert status == 1
    assert f"from {tmp_path.resolve()}" in out.splitlines()[0]
    assert "proved: sympy reduced" in out and "tested at N points (D digits)" in out
    assert "err      worst over the points of |numeric - symbolic|" in out
    assert re.search(r"lse .* >=1 ", out)  # an O(1) mismatch is not printed as 4.5e+294


def test_k_selects_checks_by_derivation_or_check_name(tmp_path, capsys):
    path = folder(tmp_path, a=TWO, b=FALSE)
    status, out = run(capsys, path, "-k", "SIGMOID", "--jobs", "1")
    assert status == 0 and "1 of 1 check passed" in out and "lse" not in out.split("----")[-1]
    status, out = run(capsys, path, "-k", "b.", "--jobs", "1")
    assert status == 1 and "0 of 1 check passed" in out and "sin8" in out
    status, out = run(capsys, path, "-k", "nothing", "--jobs", "1")
    assert status == 1 and "no check matches -k 'nothing'" in out


def test_a_false_claim_prints_its_counterexample_and_writes_it_to_json(tmp_path, capsys):
    table = tmp_path / "out.json"
    status, out = run(capsys, folder(tmp_path, b=FALSE), "--jobs", "1", "--json", table)
    assert status == 1
    assert "FAIL b.sin8  [false;" in out
    assert re.search(r"counterexample at w = -?\d+(/\d+)?: derived\[0\] = ", out)
    (row,) = json.loads(table.read_text())["checks"]
    assert row["verdict"] == "false" and row["ok"] is False
    example = row["counterexample"]
    assert set(example) == {"point", "entry", "derived", "closed_form", "difference"}
    assert example["closed_form"] == "0.0" and float(example["derived"]) != 0


def test_a_path_given_twice_runs_once(tmp_path, capsys):
    path = folder(tmp_path, b=FALSE)
    status, out = run(capsys, path, path / "b.py", path, "--jobs", "1")
    assert status == 1
    assert "1 derivation module from" in out and "0 of 1 check passed" in out


def failing_points(tmp_path, capsys, *options):
    table = tmp_path / "out.json"
    run(capsys, tmp_path / "a.py", "--json", table, "-k", "lse", "--jobs", "1", *options)
    row = json.loads(table.read_text())["checks"][0]
    return row["points"], [f["point"] for f in row["failures"]]


def test_points_and_seed_set_the_sampling(tmp_path, capsys):
    folder(tmp_path, a=TWO)
    count, first = failing_points(tmp_path, capsys, "--points", "7")
    again = failing_points(tmp_path, capsys, "--points", "7")
    other = failing_points(tmp_path, capsys, "--points", "7", "--seed", "3")
    extremes = count - 7
    assert extremes == len(Logits().extremes(2)) + len(Logits().far(2))  # one argument: far too
    assert again == (count, first)  # reproducible
    assert other[0] == count and other[1] != first  # another seed, other random points


def test_timeout_stops_a_hanging_check_and_the_rest_still_run(tmp_path, capsys):
    status, out = run(capsys, folder(tmp_path, a=TWO, s=SLOW), "--timeout", "0.5", "--jobs", "1")
    assert status == 1
    assert "FAIL s.hangs  [timed out;" in out and "stopped after 0.5 s" in out
    assert "ok   a.sigmoid" in out


def test_two_processes_report_what_one_does_in_the_same_order(tmp_path, capsys):
    path = folder(tmp_path, a=TWO, b=FALSE, c="raise ImportError('no such thing')\n")

    def without_times(out):
        out = re.sub(r"\d+\.\d+ ?s\]?", "", out)
        return [line for line in out.splitlines()[1:] if "process" not in line]

    one = run(capsys, path, "--jobs", "1")
    two = run(capsys, path, "--jobs", "2")
    assert one[0] == two[0] == 1
    assert without_times(one[1]) == without_times(two[1])
    assert "2 processes" in two[1]


def test_run_verify_keyword_options(tmp_path, capsys):
    path = folder(tmp_path, a=TWO)
    assert run_verify([path], pattern="sigmoid", points=5, seed=1, jobs=1) == 0


def test_the_bundled_copy_is_named_as_such(tmp_path, monkeypatch):
    from expfam import _discovery

    monkeypatch.setattr(_discovery, "_PACKAGE_DIR", tmp_path)
    bundled = tmp_path / "_bundled" / "derivations"
    bundled.mkdir(parents=True)
    assert _discovery.describe_folder(bundled).endswith("(the copy bundled with expfam)")
    assert _discovery.describe_folder(tmp_path) == str(tmp_path.resolve())
