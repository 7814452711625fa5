"""A next-word model: softmax over the vocabulary given the previous n - 1 words.

A deep architect's example is "START FOUR SCORE AND ? ?": softmax as the
final layer of a network that predicts the next word. :class:`NGramModel`
is the smallest such network: one-hot features of the context (the previous
``order - 1`` words), one logit vector per context, ``P(w | c) = softmax(z_c)_w``.

With one-hot context features the log-likelihood decouples over contexts,
and for context c with next-word counts ``n_c`` (total ``N_c``) it is
``-N_c CE(n_c / N_c, softmax z_c)``: the maximum-likelihood probabilities are
the relative frequencies ``n_c / N_c``. A transition never seen has frequency
0, whose logit is ``-inf``: the maximum-likelihood logits do not exist in
logit space, and every descent method drives those logits down for ever (by
about 1 per natural-gradient step; the fit stops when their probabilities
are below ``tol``). Two remedies:

- Dirichlet smoothing, Bayes as addition: a Dirichlet prior over the
  next-word probabilities adds its natural parameters (pseudo-counts) to the
  counts, ``n_c + a``; the fit maximizes the posterior density, whose optimum
  is ``(n_c + a) / (N_c + V a)`` (add-a smoothing);
- an L2 penalty ``(l2 / 2) ||z_c||^2`` on the logits, whose optimum is finite.

Words are lower-case; hyphenated words stay whole (``battle-field``). The
text is padded with ``<s>`` before the first word (the example's START) and
``</s>`` after the last, so the model also predicts the end of the text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from expfam import special
from expfam._core.args import as_rng
from expfam.families import Categorical

__all__ = ["END", "START", "NGramModel", "tokenize"]

START = "<s>"
END = "</s>"
_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into lower-case words; hyphenated words and apostrophes stay whole.

    A word is a run of letters or digits, possibly joined by single hyphens or
    apostrophes (``battle-field``, ``nation's``); everything else (punctuation,
    Lincoln's ``--`` dashes) separates words.

    Examples
    --------
    >>> tokenize("We are met on a great battle-field -- of that war.")
    ['we', 'are', 'met', 'on', 'a', 'great', 'battle-field', 'of', 'that', 'war']
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    return _WORD.findall(text.lower())


def _words(text: str | Iterable[str], name: str) -> list[str]:
    if isinstance(text, str):
        return tokenize(text)
    words = list(text)
    if not all(isinstance(w, str) for w in words):
        raise TypeError(f"{name}: expected a str or a sequence of str")
    return [w.lower() for w in words]


class NGramModel:
    r"""Softmax next-word model on one-hot context features (an n-gram model).

    Parameters
    ----------
    order : int
        n >= 1: the next word is predicted from the previous ``n - 1`` words
        (1: unigram, 2: bigram, 3: trigram).
    pseudo_count : float
        ``a >= 0``, Dirichlet pseudo-count added to every next-word count.
    l2 : float
        ``>= 0``, penalty ``(l2 / 2) ||z_c||^2`` on each context's logits.
    method : {"natural_gradient", "gradient_descent"}
        How :meth:`fit` minimizes the objective.
    max_iter : int
        Step limit.
    tol : float
        Stop when ``max_c ||p_c - q_c + l2 z_c / M_c||_inf <= tol`` (the
        gradient divided by the context's mass ``M_c = N_c + V a``).

    Attributes
    ----------
    vocabulary_ : tuple of str
        The V next-word classes (sorted; ``</s>`` included).
    contexts_ : tuple of tuple of str
        The C contexts seen in training (``<s>`` pads the start).
    counts_ : ndarray, shape (C, V)
        Next-word counts per context (read-only).
    logits_ : ndarray, shape (C, V)
        The fitted logits (read-only), each row summing to 0.
    n_iter_ : int
        Steps taken by :meth:`fit`.
    converged_ : bool
        Whether the stopping rule was met.

    Notes
    -----
    Objective, summed over contexts c:
    ``-sum_w (n_cw + a) log softmax(z_c)_w + (l2 / 2) ||z_c||^2``,
    with gradient ``M_c (p_c - q_c) + l2 z_c``, ``q_c = (n_c + a) / M_c``.
    The Hessian is block diagonal: ``M_c F(z_c) + l2 I`` with the categorical
    Fisher ``F = diag(p) - p p^T``. ``"natural_gradient"`` steps along
    ``-F(z_c)^+ g_c / M_c`` (:meth:`Categorical.natural_gradient`, O(V) per
    context), the exact Newton step when ``l2 = 0``, with a backtracking
    (Armijo) line search from step 1: quadratic convergence with smoothing.
    ``"gradient_descent"`` steps by ``g_c / (M_c / 2 + l2)`` (the largest
    eigenvalue of F is at most 1/2): linear convergence, for comparison.
    Both start at ``z = 0`` and keep ``sum_w z_cw = 0``.

    Examples
    --------
    >>> model = NGramModel(order=3).fit("four score and seven years ago")
    >>> model.generate("four score and", 3, greedy=True)
    ['seven', 'years', 'ago']
    """

    def __init__(
        self,
        order: int = 2,
        *,
        pseudo_count: float = 0.0,
        l2: float = 0.0,
        method: Literal["natural_gradient", "gradient_descent"] = "natural_gradient",
        max_iter: int = 200,
        tol: float = 1e-10,
    ) -> None:
        if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 1:
            raise ValueError(f"order: expected an integer >= 1, got {order!r}")
        for name, value in (("pseudo_count", pseudo_count), ("l2", l2)):
            if not (isinstance(value, int | float | np.number) and 0 <= value < math.inf):
                raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
        if method not in ("natural_gradient", "gradient_descent"):
            raise ValueError(
                f"method: expected 'natural_gradient' or 'gradient_descent', got {method!r}"
            )
        if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
            raise ValueError(f"max_iter: expected an integer >= 0, got {max_iter!r}")
        if not tol > 0:
            raise ValueError(f"tol: expected a number > 0, got {tol!r}")
        self.order = int(order)
        self.pseudo_count = float(pseudo_count)
        self.l2 = float(l2)
        self.method = method
        self.max_iter = max_iter
        self.tol = float(tol)

    # ------------------------------------------------------------------ fitting
    def fit(self, text: str | Iterable[str]) -> NGramModel:
        """Count the n-grams of ``text`` (a str, or words) and fit the logits; return self."""
        words = _words(text, "text")
        if not words:
            raise ValueError("text: no words to learn from")
        padded = [START] * (self.order - 1) + words + [END]
        self.vocabulary_ = tuple(sorted(set(words) | {END}))
        self._column = {w: i for i, w in enumerate(self.vocabulary_)}
        grams = [
            (tuple(padded[i : i + self.order - 1]), padded[i + self.order - 1])
            for i in range(len(padded) - self.order + 1)
        ]
        self.contexts_ = tuple(sorted({c for c, _ in grams}))
        self._row = {c: i for i, c in enumerate(self.contexts_)}
        counts = np.zeros((len(self.contexts_), len(self.vocabulary_)))
        for context, word in grams:
            counts[self._row[context], self._column[word]] += 1
        counts.flags.writeable = False
        self.counts_ = counts
        logits, self.n_iter_, self.converged_ = self._minimize(counts)
        logits.flags.writeable = False
        self.logits_ = logits
        return self

    def _minimize(self, counts: NDArray) -> tuple[NDArray, int, bool]:
        """Minimize the objective from ``z = 0``; return the logits, steps and convergence."""
        # Bayes as addition: the prior's pseudo-counts join the counts.
        posterior = counts + self.pseudo_count
        mass = np.sum(posterior, axis=1, keepdims=True)
        target = posterior / mass
        z = np.zeros_like(counts)

        def objective(z: NDArray) -> NDArray:
            return -np.sum(posterior * special.log_softmax(z), axis=1) + 0.5 * self.l2 * np.sum(
                z * z, axis=1
            )

        for step in range(self.max_iter + 1):
            scaled = special.softmax(z) - target + self.l2 * z / mass  # gradient / M_c
            if np.max(np.abs(scaled)) <= self.tol:
                return z, step, True
            if step == self.max_iter:
                break
            if self.method == "gradient_descent":
                z = z - scaled * mass / (mass / 2 + self.l2)
                continue
            direction = self._natural_direction(z, scaled, self.l2 / mass)
            decrease = np.sum(scaled * direction, axis=1, keepdims=True) * mass
            before, t = objective(z), np.ones_like(mass)
            slack = 8 * np.finfo(float).eps * np.abs(before)  # rounding of the objective
            for _ in range(60):
                worse = objective(z - t * direction) > before - 1e-4 * (t * decrease)[:, 0] + slack
                if not worse.any():
                    break
                t[worse] /= 2
            z = z - t * direction
        return z, self.max_iter, False

    @staticmethod
    def _natural_direction(z: NDArray, scaled: NDArray, damping: NDArray) -> NDArray:
        """``(F(z) + damping I)^+ scaled`` per row: the (damped) natural gradient, O(V).

        Without damping this is :meth:`Categorical.natural_gradient`. With
        ``damping = l2 / M_c > 0`` it is the exact Newton step of the penalized
        objective, by Sherman-Morrison on ``diag(p + d) - p p^T``, whose
        denominator ``1 - sum p^2 / (p + d) = sum p d / (p + d)`` is formed
        without cancellation.
        """
        if not np.any(damping):
            return Categorical(logits=z).natural_gradient(scaled, coords="logits")
        p = special.softmax(z)
        u, w = scaled / (p + damping), p / (p + damping)
        denominator = np.sum(w * damping, axis=1, keepdims=True)
        return u + w * np.sum(p * u, axis=1, keepdims=True) / denominator

    # ------------------------------------------------------------------ prediction
    def _context(self, context: str | Sequence[str]) -> tuple[str, ...]:
        self._check_fitted()
        words = _words(context, "context")
        if len(words) > self.order - 1:
            raise ValueError(
                f"context: {len(words)} words, but an order-{self.order} model reads at most "
                f"{self.order - 1}"
            )
        for w in words:
            if w not in self._column and w != START:
                raise ValueError(f"context: unknown word {w!r} (not in the training text)")
        return (START,) * (self.order - 1 - len(words)) + tuple(words)

    def next_word_distribution(self, context: str | Sequence[str] = ()) -> Categorical:
        """The distribution of the next word after ``context``, over :attr:`vocabulary_`.

        Parameters
        ----------
        context : str or sequence of str
            At most ``order - 1`` words; a shorter context is the start of a
            text (padded with ``<s>``).

        Returns
        -------
        Categorical
            ``Categorical(logits=z_c)``. A context never seen in training has
            the uniform distribution if the model is smoothed or penalized
            (the optimum without data), and raises ValueError otherwise.

        Examples
        --------
        >>> model = NGramModel(order=2).fit("the cat saw the dog")
        >>> dist = model.next_word_distribution("the")
        >>> dict(zip(model.vocabulary_, dist.probs.round(3)))["cat"]
        np.float64(0.5)
        """
        context = self._context(context)
        row = self._row.get(context)
        if row is not None:
            return Categorical(logits=self.logits_[row])
        if self.pseudo_count > 0 or self.l2 > 0:
            return Categorical(logits=np.zeros(len(self.vocabulary_)))
        raise ValueError(
            f"context: {' '.join(context)!r} was never seen in training, and without "
            "pseudo_count or l2 the model has no distribution there"
        )

    def generate(
        self,
        prompt: str | Sequence[str],
        n_words: int,
        *,
        greedy: bool = False,
        beta: float = 1.0,
        rng: np.random.Generator | int | None = None,
    ) -> list[str]:
        """Continue ``prompt`` by up to ``n_words`` words (stopping at ``</s>``).

        Parameters
        ----------
        prompt : str or sequence of str
            Any number of words; the last ``order - 1`` are the first context.
        n_words : int
            ``>= 0``.
        greedy : bool
            Take the most probable word (the first in vocabulary order on ties).
        beta : float
            Inverse temperature ``>= 0`` for sampling from ``softmax(beta z_c)``.
        rng : Generator, int or None

        Returns
        -------
        list of str
            The generated words (``</s>`` not included).
        """
        self._check_fitted()
        if isinstance(n_words, bool) or not isinstance(n_words, int) or n_words < 0:
            raise ValueError(f"n_words: expected an integer >= 0, got {n_words!r}")
        if not (isinstance(beta, int | float | np.number) and 0 <= beta < math.inf):
            raise ValueError(f"beta: expected a finite number >= 0, got {beta!r}")
        words = _words(prompt, "prompt")
        history = [START] * (self.order - 1) + words
        generator = as_rng(rng)
        out: list[str] = []
        for _ in range(n_words):
            context = history[len(history) - self.order + 1 :] if self.order > 1 else []
            dist = self.next_word_distribution(context)
            index = int(dist.mode()) if greedy else int(dist.tempered(beta).sample(rng=generator))
            word = self.vocabulary_[index]
            if word == END:
                break
            out.append(word)
            history.append(word)
        return out

    def perplexity(self, text: str | Iterable[str]) -> float:
        """``exp(-mean_i log P(w_i | c_i))`` over the words of ``text`` and its ``</s>``.

        Unknown words raise ValueError. Without smoothing or L2 a transition
        never seen in training has probability below about ``tol``, so the
        perplexity of new text is huge (the exact maximum-likelihood model
        would give ``inf``).
        """
        self._check_fitted()
        words = _words(text, "text")
        for w in words:
            if w not in self._column:
                raise ValueError(f"text: unknown word {w!r} (not in the training text)")
        padded = [START] * (self.order - 1) + words + [END]
        total = 0.0
        for i in range(self.order - 1, len(padded)):
            dist = self.next_word_distribution(padded[i - self.order + 1 : i])
            total -= float(dist.log_prob(self._column[padded[i]]))
        with np.errstate(over="ignore"):
            return float(np.exp(total / (len(padded) - self.order + 1)))

    def _check_fitted(self) -> None:
        if not hasattr(self, "logits_"):
            raise ValueError("the model is not fitted: call fit(text) first")
