"""The psi-transforms of the hinge, logistic, exponential and squared hinge losses.

Bartlett, Jordan and McAuliffe (JASA 2006) grade a margin loss phi(m),
m = y f, by its best conditional risk at eta = Pr(y = 1 | x),

    H(eta) = inf_a C_eta(a),   C_eta(a) = eta phi(a) + (1 - eta) phi(-a),

and by psi(theta) = H^-((1 + theta)/2) - H((1 + theta)/2), H^- the infimum
over scores a of the wrong sign. For a convex phi with phi'(0) < 0 the
wrong-sign infimum is at a = 0, H^- = phi(0), so psi(theta) = phi(0) - H(eta).

- logistic, phi = log(1 + e^-m): C_eta'(a) = 0 at a* = log(eta / (1 - eta))
  (the logit: the minimizer is the natural parameter of Bernoulli(eta)), and
  H(eta) = -eta log eta - (1 - eta) log(1 - eta), the entropy in nats;
  psi(theta) = log 2 - H = ((1+theta)/2) log(1+theta) + ((1-theta)/2) log(1-theta).
- exponential, phi = e^-m: a* = (1/2) log(eta / (1 - eta)),
  H = 2 sqrt(eta (1 - eta)), psi = 1 - sqrt(1 - theta^2).
- hinge, phi = max(0, 1 - m): C_eta is piecewise linear, minimal at a = 1
  for eta > 1/2, where C_eta(1) = 2 (1 - eta); psi = 1 - 2 (1 - eta) = theta.
- squared hinge, phi = max(0, 1 - m)^2: on |a| <= 1, C_eta(a) =
  eta (1 - a)^2 + (1 - eta) (1 + a)^2 is minimal at a* = 2 eta - 1,
  H = 4 eta (1 - eta), psi = theta^2.

sympy proves C_eta'(a*) = 0 at the stated minimizers (solving for it where
the equation is linear; C_eta is convex, phi being convex, so a stationary
point is the minimum), evaluates the risk there (in the odds
r = eta / (1 - eta) > 0, where the logarithms expand), and proves each psi; the numeric side is
``expfam.learn.MARGIN_LOSSES[name].psi`` on theta in [0, 1) (psi is even).
"""

import sympy

from expfam import learn
from expfam.symbolic import Arg, Check, Interval, Positive

eta = sympy.Symbol("eta", positive=True)
theta = sympy.Symbol("theta", positive=True)
a = sympy.Symbol("a", real=True)
r = sympy.Symbol("r", positive=True)


def risk(phi):
    return eta * phi(a) + (1 - eta) * phi(-a)


def checks():
    thetas = [Arg(theta, Interval(0.0, 0.999, (1e-9, 1e-4, 0.5, 0.999)))]
    etas = [Arg(eta, Interval(0.01, 0.99))]
    odds = [Arg(r, Positive())]
    smooth = {
        "logistic": (
            lambda m: sympy.log(1 + sympy.exp(-m)),
            sympy.log(eta / (1 - eta)),
            -eta * sympy.log(eta) - (1 - eta) * sympy.log(1 - eta),
            (1 + theta) / 2 * sympy.log(1 + theta) + (1 - theta) / 2 * sympy.log(1 - theta),
        ),
        "exponential": (
            lambda m: sympy.exp(-m),
            sympy.log(eta / (1 - eta)) / 2,
            2 * sympy.sqrt(eta * (1 - eta)),
            1 - sympy.sqrt(1 - theta**2),
        ),
    }
    for name, (phi, minimizer, best, psi) in smooth.items():
        c = risk(phi)
        yield Check(
            name=f"{name}_stationary",
            claim=f"{name}: C_eta'(a) = 0 at a* = {minimizer}",
            args=etas,
            derived=sympy.diff(c, a).subs(a, minimizer),
            closed_form=sympy.Integer(0),
        )
        yield Check(
            name=f"{name}_risk",
            claim=f"{name}: H(eta) = C_eta(a*) = {best} (eta = r / (1 + r), r the odds)",
            args=odds,
            derived=sympy.expand_log(c.subs(a, minimizer).subs(eta, r / (1 + r))),
            closed_form=sympy.expand_log(best.subs(eta, r / (1 + r))),
        )
        yield Check(
            name=f"{name}_psi",
            claim=f"{name}: psi(theta) = phi(0) - H((1 + theta)/2) = {psi}",
            args=thetas,
            derived=phi(0) - best.subs(eta, (1 + theta) / 2),
            closed_form=psi,
            numeric=learn.MARGIN_LOSSES[name].psi,
            rtol=4e-16,
            points=40,
        )
    # eta > 1/2 for the hinge losses: theta > 0, the minimizer at a >= 0
    hinge_best = eta * 0 + (1 - eta) * 2  # C_eta(1): phi(1) = 0, phi(-1) = 2
    yield Check(
        name="hinge_psi",
        claim="hinge: H(eta) = C_eta(1) = 2 (1 - eta), psi(theta) = |theta|",
        args=thetas,
        derived=1 - hinge_best.subs(eta, (1 + theta) / 2),
        closed_form=theta,
        numeric=learn.MARGIN_LOSSES["hinge"].psi,
        rtol=0.0,
        points=20,
    )
    c = risk(lambda m: (1 - m) ** 2)  # both pieces active on |a| <= 1
    (minimizer,) = sympy.solve(sympy.diff(c, a), a)  # linear in a: one root
    yield Check(
        name="squared_hinge_psi",
        claim=f"squared hinge: a* = {minimizer}, H = 4 eta (1 - eta), psi = theta^2",
        args=thetas,
        derived=1 - c.subs(a, minimizer).subs(eta, (1 + theta) / 2),
        closed_form=theta**2,
        numeric=learn.MARGIN_LOSSES["squared_hinge"].psi,
        rtol=4e-16,
        points=20,
    )
