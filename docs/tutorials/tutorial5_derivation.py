"""
5. Writing and verifying a derivation with ``expfam verify``
============================================================

A derivation states a claim symbolically, derives it with sympy, and names
the numeric function that must agree. ``expfam verify FOLDER`` runs every
derivation module in a folder: it tries to *prove* ``derived == closed_form``,
and compares the numeric code with the symbolic result at random and extreme
points (large logits, ties, probabilities near the boundary), evaluated with
mpmath at high precision.

Here we write one: the log-loss of a logistic model,
:math:`-\\log \\sigma(w) = \\log(1 + e^{-w}) = \\operatorname{softplus}(-w)`, with
derivative :math:`\\sigma(w) - 1`.
"""

# %%
# A derivation is a module with a ``checks()`` function
# -----------------------------------------------------
# Each :class:`expfam.symbolic.Check` holds the claim in words, its arguments
# with the domain their random points come from, what sympy derives, the
# closed form it is claimed to equal, and the numeric code under test.

import tempfile
import textwrap
from pathlib import Path

from expfam.symbolic import run_verify

DERIVATION = '''
"""The logistic log-loss is softplus(-w); its derivative is sigmoid(w) - 1."""

import numpy as np
import sympy

import expfam
from expfam.symbolic import Arg, Check, Logits, softmax


def checks():
    w = sympy.Symbol("w", real=True)
    loss = -sympy.log(softmax((w, 0))[0])  # -log p_1 of the two-class softmax
    yield Check(
        name="loss_is_softplus",
        claim="-log softmax((w, 0))_1 = log(1 + exp(-w))",
        args=[Arg(w, Logits())],
        derived=loss,
        closed_form=sympy.log(1 + sympy.exp(-w)),
        numeric=lambda w: expfam.softplus(-w),
        rtol=1e-13,
    )
    yield Check(
        name="gradient",
        claim="d/dw -log sigmoid(w) = sigmoid(w) - 1",
        args=[Arg(w, Logits())],
        derived=sympy.diff(loss, w),
        closed_form=1 / (1 + sympy.exp(-w)) - 1,
        numeric=lambda w: -expfam.sigmoid(-w),  # sigmoid(w) - 1 without cancellation
        rtol=1e-13,
    )
'''

folder = Path(tempfile.mkdtemp()) / "my_derivations"
folder.mkdir()
(folder / "logistic_loss.py").write_text(textwrap.dedent(DERIVATION))

# %%
# Run it. The table says, per check, whether the claim was proved, and the
# worst relative error of the numeric code over the points. The exit status is
# what ``expfam verify`` returns: 0 when every check passes.

status = run_verify([folder], points=30)
assert status == 0

# %%
# A derivation that is wrong says where
# -------------------------------------
# Suppose the code computed the gradient the textbook way, ``sigmoid(w) - 1``:
# it cancels for large ``w`` and loses every digit. The harness finds the
# point, prints both values and the error, and the run fails.

naive = DERIVATION.replace(
    "numeric=lambda w: -expfam.sigmoid(-w)", "numeric=lambda w: expfam.sigmoid(w) - 1"
)
(folder / "logistic_loss.py").write_text(textwrap.dedent(naive))
status = run_verify([folder], points=30)
assert status != 0

# %%
# On the command line the same runs are ``expfam verify my_derivations/``; the
# 33 derivations shipped in ``derivations/`` are checked the same way.
