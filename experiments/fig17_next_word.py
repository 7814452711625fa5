"""Figure 17: the next word after "four score and", bigram against trigram
=======================================================================

Softmax as the final layer of a next-word model: "START FOUR SCORE AND ? ?".
expfam.learn.NGramModel fitted by natural gradient on the Gettysburg Address (the Bliss
copy, expfam.datasets). (a) A bigram model sees only "and", which the address follows by
six different words once each: without smoothing it gives each 1/6 and cannot know
"seven"; with Dirichlet pseudo-counts a = 0.01 added to the counts (Bayes as addition)
the other 133 words share what the six lose (18%). (b) A trigram model sees "score and",
seen once, followed by "seven": probability 1 without smoothing (every other logit runs
towards -inf: the maximum-likelihood logits do not exist), and still the clear favourite
with smoothing. Greedy decoding then continues "seven years ago our fathers". Writes
``fig17_next_word.{pdf,png,csv}``; the CSV holds, per model, context and smoothing, the
probability of every word of the vocabulary.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from expfam.datasets import load_gettysburg
from expfam.learn import NGramModel

NAME = "fig17_next_word"
PSEUDO_COUNT = 0.01
SHOWN = ("seven", "dedicated", "so", "proper", "dead", "that", "the", "we")


def models() -> dict[tuple[int, float], NGramModel]:
    """``(order, pseudo_count) -> NGramModel`` fitted on the address."""
    text = load_gettysburg()
    return {
        (order, a): NGramModel(order, pseudo_count=a).fit(text)
        for order in (2, 3)
        for a in (0.0, PSEUDO_COUNT)
    }


def make_figure(out: Path) -> list[Path]:
    """Write figure 17 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    fitted = models()
    contexts = {2: "and", 3: "score and"}
    dists = {
        key: (contexts[key[0]], m.next_word_distribution(contexts[key[0]]).probs, m.vocabulary_)
        for key, m in fitted.items()
    }
    continuation = " ".join(fitted[3, 0.0].generate("four score and", 5, greedy=True))
    vocabulary_size = len(dists[2, 0.0][2])
    labels = [*SHOWN, f"the other {vocabulary_size - len(SHOWN)} words"]
    y = np.arange(len(labels))[::-1]
    with plot.style_context():
        fig, axes = plot.new_figure("double", height=2.9, ncols=2, sharey=True)
        for ax, order, title in zip(
            axes,
            (2, 3),
            ("(a) bigram: after “and”", "(b) trigram: after “score and”"),
            strict=True,
        ):
            for j, a in enumerate((0.0, PSEUDO_COUNT)):
                context, probs, vocabulary = dists[order, a]
                shown = [probs[vocabulary.index(w)] for w in SHOWN]
                values = [*shown, 1.0 - sum(shown)]
                ax.barh(
                    y + (0.2 if j == 0 else -0.2),
                    values,
                    height=0.4,
                    color=plot.COLORS[j],
                    label="maximum likelihood" if a == 0 else f"pseudo-count $a = {a:g}$",
                )
            ax.set_xlim(0, 1.05)
            ax.set_xlabel(r"$P(\mathrm{next\ word} \mid \mathrm{context})$")
            plot.panel_label(ax, title)
        axes[0].axvline(1 / 6, color="0.5", linestyle=":", linewidth=0.8)
        axes[0].text(1 / 6 + 0.01, y[0] + 0.45, "1/6", color="0.4", fontsize=7, va="center")
        axes[0].set_yticks(y, labels)
        axes[0].legend(loc="upper right")
        axes[1].text(
            0.97,
            0.5,
            f"greedy: four score and\n{continuation} ...",
            transform=axes[1].transAxes,
            ha="right",
            va="center",
            fontsize=7,
            style="italic",
        )
        written = figures.save_figure(fig, out, NAME)
    rows = {"order": [], "context": [], "pseudo_count": [], "word": [], "probability": []}
    for (order, a), (context, probs, vocabulary) in dists.items():
        rows["order"] += [order] * len(vocabulary)
        rows["context"] += [context] * len(vocabulary)
        rows["pseudo_count"] += [a] * len(vocabulary)
        rows["word"] += list(vocabulary)
        rows["probability"] += list(probs)
    written.append(figures.save_csv(out, NAME, rows))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
