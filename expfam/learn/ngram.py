"""A next-word model: softmax over the vocabulary given the previous n - 1 words.

Softmax is the final layer of a network that predicts the next word
("START FOUR SCORE AND ? ?": what follows the opening of the Gettysburg
address, :func:`expfam.datasets.load_gettysburg`). :class:`NGramModel`
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
text is padded with ``<s>`` before the first word (the start marker) and
``</s>`` after the last, so the model also predicts the end of the text.
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from expfam import special
from expfam._core.args import as_rng
from expfam._core.exceptions import ConvergenceWarning, NotFittedError
from expfam.families import Categorical

__all__ = ["END", "START", "NGramModel", "NextWordDistribution", "tokenize"]

START = "<s>"
END = "</s>"
# A letter or digit of any script (``[^\W_]``) or a combining mark; words joined by
# single hyphens or apostrophes (straight or typographic).
_CHAR = "(?:[^\\W_]|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])"
_WORD = re.compile(f"{_CHAR}+(?:['\u2019-]{_CHAR}+)*")


def tokenize(text: str) -> list[str]:
    r"""Split ``text`` into lower-case words; hyphenated words and apostrophes stay whole.

    .. math::

        \text{text} \mapsto (w_1, \dots, w_n),
        \quad w_i \text{ lower-case runs of letters and digits}

    A word is a run of letters or digits of any script (accents included,
    composed or combining), possibly joined by single hyphens or apostrophes
    (``battle-field``, ``nation's``; a typographic ``’`` reads as ``'``); everything else
    (punctuation, Lincoln's ``--`` dashes) separates words. The text is put
    in Unicode normal form NFC first, so ``café`` typed either way is one word.

    Parameters
    ----------
    text : str
        The text to split (a TypeError for anything else).

    Returns
    -------
    list of str
        The words of ``text`` in order, lower-case, in normal form NFC.

    Examples
    --------
    >>> tokenize("We are met on a great battle-field -- of that war.")
    ['we', 'are', 'met', 'on', 'a', 'great', 'battle-field', 'of', 'that', 'war']
    >>> tokenize("Café naïve résumé")
    ['café', 'naïve', 'résumé']
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    text = unicodedata.normalize("NFC", text).lower().replace("\u2019", "'")
    return _WORD.findall(text)


def _words(text: str | Iterable[str], name: str) -> list[str]:
    """The words of ``text`` (a str or a sequence of words); ``<s>`` is kept as a word."""
    if isinstance(text, str):
        parts = text.split(START)
        words = tokenize(parts[0])
        for part in parts[1:]:
            words += [START, *tokenize(part)]
        return words
    words = list(text)
    if not all(isinstance(w, str) for w in words):
        raise TypeError(f"{name}: expected a str or a sequence of str")
    return [w if w == START else unicodedata.normalize("NFC", w).lower() for w in words]


@dataclass(frozen=True, eq=False)
class NextWordDistribution:
    r"""The distribution of the next word after a context, over a model's vocabulary.

    .. math::

        P(w \mid \text{context}) = \operatorname{softmax}(z)_w

    Made by :meth:`NGramModel.next_word_distribution`; each parameter is the
    attribute of the same name.

    Parameters
    ----------
    context : tuple of str
        The context the distribution conditions on: the last ``order - 1``
        words read (``<s>`` for the start of a text), or the shorter context
        backed off to.
    vocabulary : tuple of str
        The V words (``</s>``, the end of the text, included).
    logits : ndarray, shape (V,)
        The model's logits (read-only); ``probs = softmax(logits)``.
    """

    context: tuple[str, ...]
    vocabulary: tuple[str, ...]
    logits: NDArray[np.float64]

    @property
    def categorical(self) -> Categorical:
        """The distribution as a :class:`~expfam.Categorical` over the vocabulary's indices."""
        return Categorical(logits=self.logits)

    @property
    def probs(self) -> NDArray[np.float64]:
        """``softmax(logits)``, shape (V,), in vocabulary order."""
        return special.softmax(self.logits)

    def prob(self, word: str) -> float:
        r"""The probability of ``word`` (ValueError for a word outside the vocabulary).

        .. math::

            P(w \mid \text{context}) = \operatorname{softmax}(z)_w

        Parameters
        ----------
        word : str
            A word of :attr:`vocabulary` (``"</s>"`` for the end of the text).

        Returns
        -------
        float
            ``softmax(logits)`` at the word's index, in ``[0, 1]``.

        Examples
        --------
        >>> NextWordDistribution(("<s>",), ("a", "b"), np.zeros(2)).prob("a")
        0.5
        """
        if word not in self.vocabulary:
            raise ValueError(f"word: {word!r} is not in the vocabulary")
        return float(self.probs[self.vocabulary.index(word)])

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` most probable words with their probabilities, most probable first.

        Ties keep vocabulary order.

        Parameters
        ----------
        k : int
            ``>= 0``, how many words; all V of them if ``k >= V``.

        Returns
        -------
        list of (str, float)
            ``min(k, V)`` pairs ``(word, probability)``, probabilities
            non-increasing.

        Examples
        --------
        >>> dist = NextWordDistribution(("<s>",), ("a", "b"), np.array([0.0, 1.0]))
        >>> [(w, round(p, 6)) for w, p in dist.top(1)]
        [('b', 0.731059)]
        """
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
            raise ValueError(f"k: expected an integer >= 0, got {k!r}")
        probs = self.probs
        order = np.argsort(-probs, kind="stable")[: int(k)]
        return [(self.vocabulary[i], float(probs[i])) for i in order]

    def __repr__(self) -> str:
        top = ", ".join(f"{w!r}: {p:.3g}" for w, p in self.top(5))
        more = ", ..." if len(self.vocabulary) > 5 else ""
        return (
            f"NextWordDistribution(context={' '.join(self.context)!r}, "
            f"top={{{top}{more}}}, V={len(self.vocabulary)})"
        )


class NGramModel:
    r"""Softmax next-word model on one-hot context features (an n-gram model).

    .. math::

        P(w \mid c) = \operatorname{softmax}(z_c)_w, \qquad
        \hat z_c = \arg\min_z\, -\sum_w (n_{cw} + a) \log \operatorname{softmax}(z)_w
        + \tfrac{l_2}{2} \|z\|^2

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
        """Count the n-grams of ``text`` (a str, or words) and fit the logits; return self.

        Parameters
        ----------
        text : str or iterable of str
            The training text: a str, split by :func:`tokenize`, or a sequence
            of words (lower-cased). It must not contain ``<s>``.

        Returns
        -------
        NGramModel
            ``self``, with ``vocabulary_``, ``contexts_``, ``counts_``,
            ``logits_``, ``n_iter_`` and ``converged_`` set (a
            :class:`ConvergenceWarning` if ``max_iter`` stopped the fit).
        """
        words = _words(text, "text")
        if not words:
            raise ValueError("text: no words to learn from")
        if START in words:
            raise ValueError(f"text: {START!r} marks the start of a text and cannot appear in one")
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
        self._backoff: dict[tuple[str, ...], NDArray] = {}
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
        warnings.warn(
            f"NGramModel: the fit stopped at max_iter={self.max_iter} before the gradient "
            f"reached tol={self.tol:g} (raise max_iter, or smooth with pseudo_count or l2)",
            ConvergenceWarning,
            stacklevel=3,
        )
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
    def __repr__(self) -> str:
        params = (
            f"order={self.order}, pseudo_count={self.pseudo_count!r}, l2={self.l2!r}, "
            f"method={self.method!r}, max_iter={self.max_iter}, tol={self.tol!r}"
        )
        fitted = (
            f"; fitted: V={len(self.vocabulary_)}, {len(self.contexts_)} contexts"
            if hasattr(self, "logits_")
            else ""
        )
        return f"NGramModel({params}){fitted}"

    def _context(self, context: str | Sequence[str]) -> tuple[str, ...]:
        """The last ``order - 1`` words of ``context``, read from its last ``<s>`` on.

        A context that starts with ``<s>`` (or is empty) is the start of a text and
        is padded with ``<s>``; a shorter one is returned as it is (to back off).
        """
        self._check_fitted()
        words = _words(context, "context")
        for w in words:
            if w not in self._column and w != START:
                raise ValueError(f"context: unknown word {w!r} (not in the training text)")
        n = self.order - 1
        if START in words:
            last = len(words) - 1 - words[::-1].index(START)
            words = [START] * n + words[last + 1 :]
        elif not words:
            words = [START] * n
        return tuple(words[len(words) - n :]) if n else ()

    def next_word_distribution(self, context: str | Sequence[str] = ()) -> NextWordDistribution:
        """The distribution of the next word after ``context``, over :attr:`vocabulary_`.

        Parameters
        ----------
        context : str or sequence of str
            The words before the next one; the last ``order - 1`` are read.
            ``<s>`` marks the start of a text (an empty context is the start
            too). A shorter context without ``<s>`` backs off: it is the
            distribution after those words anywhere in the text (the
            contexts that end with them, their counts pooled and fitted by
            the same objective), a lower-order model.

        Returns
        -------
        NextWordDistribution
            The words with their probabilities (``.top(k)``, ``.probs``,
            ``.categorical``). A full context never seen in training has the
            uniform distribution if the model is smoothed or penalized (the
            optimum without data), and raises ValueError otherwise.

        Examples
        --------
        >>> model = NGramModel(order=3, pseudo_count=1.0).fit("the cat saw the dog")
        >>> [(w, round(p, 4)) for w, p in model.next_word_distribution("<s> the").top(2)]
        [('cat', 0.3333), ('</s>', 0.1667)]
        >>> backed = model.next_word_distribution("saw")  # backs off: "saw" anywhere
        >>> backed.context, [(w, round(p, 4)) for w, p in backed.top(2)]
        (('saw',), [('the', 0.3333), ('</s>', 0.1667)])
        """
        context = self._context(context)
        if len(context) == self.order - 1:
            row = self._row.get(context)
            if row is not None:
                return NextWordDistribution(context, self.vocabulary_, self.logits_[row])
            return NextWordDistribution(context, self.vocabulary_, self._unseen(context))
        if context not in self._backoff:
            n = len(context)
            rows = [i for i, c in enumerate(self.contexts_) if c[len(c) - n :] == context]
            if not rows:
                logits = self._unseen(context)
            else:
                logits, _, _ = self._minimize(self.counts_[rows].sum(axis=0, keepdims=True))
                logits = logits[0]
            logits.flags.writeable = False
            self._backoff[context] = logits
        return NextWordDistribution(context, self.vocabulary_, self._backoff[context])

    def _unseen(self, context: tuple[str, ...]) -> NDArray:
        """The logits after a context never seen: 0 (uniform) if smoothed, else an error."""
        if self.pseudo_count > 0 or self.l2 > 0:
            logits = np.zeros(len(self.vocabulary_))
            logits.flags.writeable = False
            return logits
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
            Any number of words, read as by :meth:`next_word_distribution`: the
            last ``order - 1`` are the first context, ``<s>`` marks the start of
            a text (as does an empty prompt), a shorter prompt backs off.
        n_words : int
            ``>= 0``.
        greedy : bool
            Take the most probable word (the first in vocabulary order on ties).
        beta : float
            Inverse temperature ``>= 0`` for sampling from ``softmax(beta z_c)``.
        rng : Generator, int or None
            The random generator, or a seed, for sampling (unused when ``greedy``).

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
        history = list(self._context(prompt))
        generator = as_rng(rng)
        out: list[str] = []
        for _ in range(n_words):
            dist = self.next_word_distribution(history).categorical
            index = int(dist.mode()) if greedy else int(dist.tempered(beta).sample(rng=generator))
            word = self.vocabulary_[index]
            if word == END:
                break
            out.append(word)
            history = [*history, word][1:] if len(history) == self.order - 1 else [*history, word]
        return out

    def perplexity(self, text: str | Iterable[str]) -> float:
        r"""``exp(-mean_i log P(w_i | c_i))`` over the words of ``text`` and its ``</s>``.

        .. math::

            \mathrm{PP} = \exp\Big(-\frac{1}{n + 1} \sum_{i=1}^{n+1} \log P(w_i \mid c_i)\Big),
            \qquad w_{n+1} = \texttt{</s>}

        Unknown words raise ValueError. Without smoothing or L2 a transition
        never seen in training has probability below about ``tol``, so the
        perplexity of new text is huge (the exact maximum-likelihood model
        would give ``inf``).

        Parameters
        ----------
        text : str or iterable of str
            The text to score, read as in :meth:`fit`; its words ``w_i`` are
            predicted from their contexts ``c_i`` (the start padded with ``<s>``).

        Returns
        -------
        float
            The perplexity, ``>= 1``: the exponential of the mean log-loss per
            predicted word; may overflow to ``inf``.

        Examples
        --------
        >>> round(NGramModel(order=1).fit("a b").perplexity("a b"), 8)  # 3 words, each 1/3
        3.0
        """
        self._check_fitted()
        words = _words(text, "text")
        for w in words:
            if w not in self._column:
                raise ValueError(f"text: unknown word {w!r} (not in the training text)")
        padded = [START] * (self.order - 1) + words + [END]
        total = 0.0
        for i in range(self.order - 1, len(padded)):
            dist = self.next_word_distribution(padded[i - self.order + 1 : i]).categorical
            total -= float(dist.log_prob(self._column[padded[i]]))
        with np.errstate(over="ignore"):
            return float(np.exp(total / (len(padded) - self.order + 1)))

    def _check_fitted(self) -> None:
        if not hasattr(self, "logits_"):
            raise NotFittedError("the model is not fitted: call fit(text) first")
