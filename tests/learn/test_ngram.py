"""The n-gram next-word model: counts, the closed-form smoothed MLE, "four score and ..."."""

import math
from collections import Counter

import numpy as np
import pytest

from expfam.datasets import load_gettysburg
from expfam.learn import END, START, NGramModel, tokenize

TEXT = load_gettysburg()
WORDS = tokenize(TEXT)


def ngram_counts(order):
    padded = [START] * (order - 1) + WORDS + [END]
    return Counter(
        (tuple(padded[i - order + 1 : i]), padded[i]) for i in range(order - 1, len(padded))
    )


def test_tokenizer_keeps_hyphenated_words_and_drops_dashes():
    assert tokenize("Battle-field -- the NATION's  war, 1863.") == [
        "battle-field",
        "the",
        "nation's",
        "war",
        "1863",
    ]
    assert len(WORDS) == 271
    assert WORDS[:4] == ["four", "score", "and", "seven"]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_counts_are_the_ngram_counts(order):
    model = NGramModel(order).fit(TEXT)
    for (context, word), n in ngram_counts(order).items():
        row = model.contexts_.index(context)
        assert model.counts_[row, model.vocabulary_.index(word)] == n
    assert model.counts_.sum() == len(WORDS) + 1


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("pseudo_count", [0.1, 1.0])
@pytest.mark.parametrize("method", ["natural_gradient", "gradient_descent"])
def test_fit_reaches_the_closed_form_smoothed_mle(order, pseudo_count, method):
    """The Dirichlet-smoothed optimum is (n + a) / (N + V a): add-a smoothing."""
    model = NGramModel(order, pseudo_count=pseudo_count, method=method, max_iter=20000)
    model.fit(TEXT)
    assert model.converged_
    v = len(model.vocabulary_)
    counts = ngram_counts(order)
    totals = Counter()
    for (context, _), n in counts.items():
        totals[context] += n
    for context in model.contexts_:
        expected = np.full(v, pseudo_count)
        for col, word in enumerate(model.vocabulary_):
            expected[col] += counts.get((context, word), 0)
        expected /= totals[context] + v * pseudo_count
        probs = model.next_word_distribution(context[order - 1 - len(context) :]).probs
        np.testing.assert_allclose(probs, expected, rtol=1e-7, atol=1e-9)
    if method == "natural_gradient":
        assert model.n_iter_ <= 10  # Newton: quadratic convergence


def test_natural_gradient_is_far_faster_than_gradient_descent():
    ng = NGramModel(2, pseudo_count=0.5).fit(TEXT)
    gd = NGramModel(2, pseudo_count=0.5, method="gradient_descent", max_iter=20000).fit(TEXT)
    assert ng.converged_ and gd.converged_
    assert 20 * ng.n_iter_ < gd.n_iter_


@pytest.mark.parametrize("l2", [0.05, 1.0, 10.0])
def test_l2_optimum_is_stationary(l2):
    """M (p - q) + l2 z = 0 per context, with finite logits even for unseen transitions."""
    model = NGramModel(2, l2=l2).fit(TEXT)
    assert model.converged_ and np.all(np.isfinite(model.logits_))
    p = np.exp(model.logits_ - model.logits_.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    gradient = model.counts_.sum(1, keepdims=True) * p - model.counts_ + l2 * model.logits_
    assert np.max(np.abs(gradient)) < 1e-8 * model.counts_.sum(1).max()
    np.testing.assert_allclose(model.logits_.sum(1), 0, atol=1e-10)


def test_without_smoothing_unseen_logits_run_to_minus_infinity():
    """The MLE does not exist in logit space: more steps, lower unseen logits."""
    logits = [NGramModel(2, max_iter=n, tol=1e-300).fit(TEXT).logits_ for n in (5, 10, 20)]
    unseen = NGramModel(2).fit(TEXT).counts_ == 0
    # the largest unseen logit relative to the top one, in the least certain context
    gaps = [max(np.max(r[u]) - np.max(r) for r, u in zip(z, unseen, strict=True)) for z in logits]
    assert gaps[0] - gaps[1] > 4.5 and gaps[1] - gaps[2] > 9  # about -1 per step
    # the seen transitions converge to their relative frequencies
    model = NGramModel(2).fit(TEXT)
    freq = model.counts_ / model.counts_.sum(1, keepdims=True)
    probs = np.exp(model.logits_ - model.logits_.max(1, keepdims=True))
    np.testing.assert_allclose(probs / probs.sum(1, keepdims=True), freq, atol=1e-9)


def test_four_score_and_bigram_cannot_know_seven_trigram_can():
    bigram = NGramModel(2).fit(TEXT)
    probs = dict(zip(bigram.vocabulary_, bigram.next_word_distribution("and").probs, strict=True))
    followers = {w for w, p in probs.items() if p > 1e-6}
    assert followers == {"seven", "dedicated", "so", "proper", "dead", "that"}
    for w in followers:
        assert probs[w] == pytest.approx(1 / 6, rel=1e-9)
    trigram = NGramModel(3).fit(TEXT)
    seven = trigram.vocabulary_.index("seven")
    assert trigram.next_word_distribution("score and").probs[seven] > 1 - 1e-9
    assert trigram.generate("four score and", 5, greedy=True) == [
        "seven",
        "years",
        "ago",
        "our",
        "fathers",
    ]
    # from the start of the text the trigram model recites until "a new" (nation, birth)
    assert trigram.generate("", 16, greedy=True) == [*WORDS[:15], "birth"]


def test_sampled_generation_is_reproducible_and_tempered():
    model = NGramModel(2, pseudo_count=0.01).fit(TEXT)
    a = model.generate("four score and", 30, rng=7)
    assert a == model.generate("four score and", 30, rng=np.random.default_rng(7))
    assert all(w in model.vocabulary_ for w in a)
    # beta -> large: sampling follows the greedy path while the argmax is unique
    trigram = NGramModel(3, pseudo_count=0.01).fit(TEXT)
    cold = trigram.generate("four score", 8, beta=1e3, rng=0)
    assert cold == trigram.generate("four score", 8, greedy=True) == WORDS[2:10]
    # after "and" at beta = 1 one of the six followers has probability 6.06 / (6 + 1.39)
    firsts = Counter(model.generate("and", 1, rng=s)[0] for s in range(400))
    hits = sum(firsts[w] for w in ("seven", "dedicated", "so", "proper", "dead", "that"))
    p = 6 * 1.01 / (6 + 0.01 * len(model.vocabulary_))
    assert abs(hits - 400 * p) < 4.5 * math.sqrt(400 * p * (1 - p))


def test_perplexity_by_hand():
    model = NGramModel(2).fit(TEXT)
    counts = ngram_counts(2)
    totals = Counter()
    for (context, _), n in counts.items():
        totals[context] += n
    log_loss = -sum(n * math.log(n / totals[c]) for (c, _), n in counts.items())
    expected = math.exp(log_loss / (len(WORDS) + 1))
    assert model.perplexity(TEXT) == pytest.approx(expected, rel=1e-9)
    smooth = NGramModel(2, pseudo_count=1.0).fit(TEXT)
    assert smooth.perplexity("the people") < smooth.perplexity("people the")


def test_unigram_is_the_word_frequencies():
    model = NGramModel(1).fit(TEXT)
    assert model.contexts_ == ((),)
    freq = Counter([*WORDS, END])
    probs = model.next_word_distribution().probs
    for w, n in freq.items():
        assert probs[model.vocabulary_.index(w)] == pytest.approx(n / 272, rel=1e-9)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: NGramModel(0), "order"),
        (lambda: NGramModel(2.5), "order"),
        (lambda: NGramModel(2, pseudo_count=-1), "pseudo_count"),
        (lambda: NGramModel(2, l2=np.inf), "l2"),
        (lambda: NGramModel(2, method="adam"), "method"),
        (lambda: NGramModel(2).fit(""), "text"),
        (lambda: NGramModel(2).fit([1, 2]), "text"),
        (lambda: NGramModel(2).next_word_distribution("and"), "not fitted"),
        (lambda: NGramModel(2).fit(TEXT).next_word_distribution("score and"), "context"),
        (lambda: NGramModel(2).fit(TEXT).next_word_distribution("zebra"), "unknown word"),
        (lambda: NGramModel(3).fit(TEXT).next_word_distribution("and and"), "never seen"),
        (lambda: NGramModel(2).fit(TEXT).generate("and", -1), "n_words"),
        (lambda: NGramModel(2).fit(TEXT).generate("and", 2, beta=-1.0), "beta"),
        (lambda: NGramModel(2).fit(TEXT).perplexity("zebra"), "unknown word"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_unseen_context_of_a_smoothed_model_is_uniform():
    model = NGramModel(3, pseudo_count=1.0).fit(TEXT)
    np.testing.assert_allclose(model.next_word_distribution("and and").probs, 1 / 139)
