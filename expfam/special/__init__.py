"""Stable, accurate kernels of the softmax family.

Every function takes array-likes, works along the last axis (``axis=-1``) by
default and broadcasts over leading batch axes. ``float16``, ``float32`` and
``float64`` inputs give outputs of the same dtype (float16 and float32 are
computed in float64 and rounded once); integers and booleans promote to
float64.

One argument convention (:mod:`expfam._core.args`): ``axis`` is an int, a
tuple of ints or None, the named axes together holding one distribution;
``keepdims`` wherever a kernel reduces; a boolean ``where=`` mask makes the
masked entries classes of probability 0 (a row with none is the empty
distribution: softmax 0, log_softmax and logsumexp ``-inf``, entropy and KL
0); ``beta`` may be an array broadcasting with the batch shape; a 0-d input
is one class; integer targets are class indices and float targets
probability vectors with the logits' axes.

Special values follow the limits of the mathematics, one convention for the
whole family:

- a ``-inf`` logit is a class of probability 0 (the boundary of the simplex);
- one ``+inf`` logit takes all the mass, and several ``+inf`` logits share it
  equally (the limit of ``softmax(beta * z)`` as ``beta`` grows, fair about
  ties); ``logsumexp`` is then ``+inf`` and ``log_softmax`` is ``-log c`` on
  the ``c`` tied classes, ``-inf`` elsewhere;
- a row of all ``-inf`` has no distribution: ``logsumexp`` is ``-inf``,
  ``softmax`` and ``log_softmax`` are NaN;
- NaN in gives NaN out (for the whole row of a row-wise function);
- empty inputs give empty outputs, and the log of an empty sum is ``-inf``;
- no RuntimeWarning escapes for any input handled by these rules.

Large inputs are shared among threads: :func:`set_num_threads` (also a
context manager) or the environment variable ``EXPFAM_NUM_THREADS`` set
their number, by default the CPUs the process may use.

Accuracy is measured in ULPs of the result against mpmath at 60 digits (see
``tests/special/``); each docstring states the bound its test holds.

References
----------
P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing the
log-sum-exp and softmax functions", IMA J. Numer. Anal. 41 (2021).
M. Maechler, "Accurately computing ``log(1 - exp(-|a|))``", Rmpfr vignette (2012).
"""

from expfam._core.threads import get_num_threads, set_num_threads
from expfam.special._elementwise import log1mexp, log_sigmoid, logit, sigmoid, softplus
from expfam.special._losses import cross_entropy, kl_divergence
from expfam.special._partition import entropy, log_softmax, logsumexp, softmax
from expfam.special.sparse import entmax, entmax_jvp, fenchel_young_loss, sparsemax

__all__ = [
    "cross_entropy",
    "entmax",
    "entmax_jvp",
    "entropy",
    "fenchel_young_loss",
    "get_num_threads",
    "kl_divergence",
    "log1mexp",
    "log_sigmoid",
    "log_softmax",
    "logit",
    "logsumexp",
    "set_num_threads",
    "sigmoid",
    "softmax",
    "softplus",
    "sparsemax",
]
