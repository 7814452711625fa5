"""Issue 18: probabilities passed to a logits kernel warn, naming the function that takes them.

A new user passed probabilities to ``kl_divergence`` and got 0.074 where the answer was
0.368, with no warning.
"""

import warnings

import numpy as np
import pytest

from expfam import cross_entropy, entropy, geometry, kl_divergence
from expfam.exceptions import ProbabilitiesAsLogitsWarning

P = np.array([0.7, 0.2, 0.1])
Q = np.array([0.1, 0.3, 0.6])


def test_kl_divergence_of_probabilities_warns_and_names_geometry_kl():
    with pytest.warns(ProbabilitiesAsLogitsWarning, match=r"logits_p: .*expfam\.geometry\.kl"):
        wrong = kl_divergence(P, Q)
    right = float(np.sum(P * np.log(P / Q)))
    np.testing.assert_allclose(geometry.kl(P, Q), right, rtol=1e-14)
    assert abs(wrong - right) > 0.1  # the plausible wrong number the warning is for


@pytest.mark.parametrize(
    "call",
    [
        lambda: entropy(np.stack([P, Q])),
        lambda: cross_entropy(P.tolist(), 0),
        lambda: kl_divergence(np.log(P), Q),
        lambda: entropy(np.stack([P, Q]).T, axis=0),
    ],
)
def test_every_logits_kernel_warns_on_probability_rows(call):
    with pytest.warns(ProbabilitiesAsLogitsWarning):
        call()


@pytest.mark.parametrize(
    "logits",
    [
        np.log(P),  # true logits
        np.stack([P, np.array([0.5, 0.6, 0.1])]),  # one row does not sum to 1
        np.array([1.2, -0.1, -0.1]),  # sums to 1 but leaves [0, 1]
        np.array([[1.0], [1.0]]),  # K = 1
        np.zeros((0, 3)),
        np.array([[1.0, 0.0], [0.0, 1.0]]),  # one-hot rows are logits too
        np.array([1.7e308, 1.7e308]),  # a sum that overflows
    ],
)
def test_logits_that_are_not_probability_rows_do_not_warn(logits):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        entropy(logits)
        kl_divergence(logits, logits)


def test_beta_and_where_are_keyword_only_everywhere():
    """Issue 18: softmax took beta by position while cross_entropy took it by keyword."""
    import inspect

    from expfam import log_softmax, logsumexp, softmax, sparsemax

    for function in (
        softmax,
        log_softmax,
        logsumexp,
        entropy,
        cross_entropy,
        kl_divergence,
        sparsemax,
    ):
        parameters = inspect.signature(function).parameters
        for name in ("beta", "where"):
            if name in parameters:
                assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, (function, name)
    with pytest.raises(TypeError):
        softmax([0.0, 1.0], -1, 2.0)


def test_a_family_built_from_logits_takes_them_as_logits():
    """Categorical(logits=...) was given logits by name: its methods never warn, even on
    logits that happen to look like probabilities (hypothesis found (0.5, 0.5))."""
    from expfam import Categorical

    p, q = Categorical(logits=[0.5, 0.5]), Categorical(logits=[0.25, 0.75])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(p.entropy()) == pytest.approx(np.log(2), rel=1e-15)
        assert float(p.kl(q)) >= 0
        assert np.isfinite(p.cross_entropy(q))
        assert np.isfinite(p.log_prob(0))
    with pytest.warns(ProbabilitiesAsLogitsWarning):  # the kernels themselves still check
        entropy([0.5, 0.5])
