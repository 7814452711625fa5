"""The two KL centroids are means in the two flat coordinate systems.

Right centroid: argmin_c sum_i w_i KL(p_i || c). In mean coordinates (K = 2, c = (t, 1 - t))
d/dt sum_i w_i KL(p_i || c) = sum_i w_i ((1 - s_i)/(1 - t) - s_i / t), zero at
t = sum_i w_i s_i: the arithmetic mean of the probabilities (the m-flat coordinates).

Left centroid: argmin_c sum_i w_i KL(c || p_i). KL is the Bregman divergence of the
log-partition A (derivation 06), KL(c || p_i) = A(a_i) - A(b) - (a_i - b) A'(b) in
natural coordinates (b for c, a_i for p_i), so d/db KL(c || p_i) = (b - a_i) A''(b), and
the sum vanishes at b = sum_i w_i a_i: the mean of the logits, c = softmax(sum w_i z_i).

sympy solves both stationarity conditions (two points, weights w, 1 - w); the numeric
side is ``right_kl_centroid`` and ``left_kl_centroid`` of ``expfam.geometry``.
"""

import sympy

from expfam import Categorical
from expfam.geometry import left_kl_centroid, right_kl_centroid
from expfam.symbolic import Arg, Check, Interval, Reals


def _right(s1, s2, w):
    return right_kl_centroid([[s1, 1 - s1], [s2, 1 - s2]], [w, 1 - w])[0]


def _left(a, w):
    points = Categorical(logits=[[a[0], 0.0], [a[1], 0.0]])  # the set as logits
    return float(left_kl_centroid(points, [w, 1 - w])[0])  # its probability of class 0


def checks():
    w = sympy.Symbol("w", positive=True)
    s1, s2, t = sympy.symbols("s1 s2 t", positive=True)

    def kl2(x, y):
        return x * sympy.log(x / y) + (1 - x) * sympy.log((1 - x) / (1 - y))

    objective = w * kl2(s1, t) + (1 - w) * kl2(s2, t)
    (stationary,) = sympy.solve(sympy.diff(objective, t), t)
    unit = Interval(1e-6, 1 - 1e-6, (1e-6, 0.5, 0.75))
    weight = Interval(0.0, 1.0, (0.0, 0.5, 1.0))
    yield Check(
        name="right_centroid_is_mean_in_p",
        claim="argmin_c sum w_i KL(p_i || c) = sum w_i p_i (right_kl_centroid)",
        args=[Arg(s1, unit), Arg(s2, unit), Arg(w, weight)],
        derived=stationary,
        closed_form=w * s1 + (1 - w) * s2,
        numeric=_right,
        rtol=1e-14,
        points=30,
    )
    a1, a2, b = sympy.symbols("a1 a2 b", real=True)

    def log_partition(x):
        return sympy.log(1 + sympy.exp(x))

    def bregman(a, b):  # KL(c || p) with c, p of natural parameters b, a
        return log_partition(a) - log_partition(b) - (a - b) * sympy.diff(log_partition(b), b)

    objective = w * bregman(a1, b) + (1 - w) * bregman(a2, b)
    slope = sympy.cancel(sympy.diff(objective, b) / sympy.diff(log_partition(b), b, 2))
    (stationary,) = sympy.solve(slope, b)
    yield Check(
        name="left_centroid_is_mean_in_logits",
        claim="argmin_c sum w_i KL(c || p_i) = softmax(sum w_i z_i) (left_kl_centroid)",
        args=[Arg((a1, a2), Reals(scale=5.0)), Arg(w, Interval(0.01, 0.99, (0.01, 0.5)))],
        derived=1 / (1 + sympy.exp(-stationary)),  # class 0 of softmax((b, 0))
        closed_form=1 / (1 + sympy.exp(-(w * a1 + (1 - w) * a2))),
        numeric=_left,
        rtol=1e-12,
        atol=1e-12,
        points=30,
    )
