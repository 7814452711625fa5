"""Exponential families on the categorical simplex and its relatives.

:class:`ExponentialFamily` (``family.py``) writes once what every family
shares; each family supplies its log-partition, mean map and their inverses.

- :class:`Categorical`: K classes, logits (overcomplete), natural (K-1) and mean coordinates.
- :class:`Bernoulli`: the two-class case, ``sigmoid`` and ``softplus``.
- :class:`Dirichlet`: the conjugate prior of the categorical.
- :class:`RelaxedCategorical`: the Concrete (Gumbel-softmax) relaxation of the categorical.

The families are numpy-only: a torch, JAX, CuPy or dask array passed to one is
a TypeError naming the argument (converting it would lose its device and its
gradient). The kernels of :mod:`expfam.special` and :mod:`expfam.geometry` take
those arrays.
"""

from expfam.families.bernoulli import Bernoulli
from expfam.families.categorical import Categorical
from expfam.families.dirichlet import Dirichlet
from expfam.families.family import ExponentialFamily
from expfam.families.relaxed import RelaxedCategorical

__all__ = ["Bernoulli", "Categorical", "Dirichlet", "ExponentialFamily", "RelaxedCategorical"]
