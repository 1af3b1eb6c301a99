"""Post text with the word statistics of real text, so search is measured on realistic queries.

Real text follows Zipf's law: a few words are everywhere, most are rare. The seeded posts draw
from a vocabulary of 20,000 words with Zipf weights (the benchmark's old 27 words first, so
they stay the most common); queries are the words people look for — topical words, neither
stop words nor typos — drawn from ranks 200 to 20,000.
"""

from __future__ import annotations

import bisect
import itertools
import random
from functools import cache

# The benchmark's first vocabulary: the most common words of the corpus.
HEAD = [
    "bird",
    "song",
    "morning",
    "river",
    "city",
    "light",
    "code",
    "coffee",
    "train",
    "garden",
    "music",
    "night",
    "rain",
    "window",
    "book",
    "friend",
    "market",
    "bridge",
    "cloud",
    "street",
    "letter",
    "forest",
    "harbour",
    "lamp",
    "paper",
    "tea",
]
VOCABULARY = 20_000
ZIPF_EXPONENT = 1.07
TOPICAL = (200, VOCABULARY)  # the ranks a searched-for word comes from
COMMON = (20, 60)  # a word in a few percent of posts: the worst case we report
_SYLLABLES = ["ka", "lo", "mi", "ren", "ta", "su", "vo", "pe", "ri", "dan",
              "el", "or", "ba", "ne", "shi", "tor", "ul", "ve", "ga", "ix"]  # fmt: skip


@cache
def vocabulary() -> tuple[list[str], list[float]]:
    """Words by rank and their cumulative Zipf weights."""
    words = list(HEAD)
    for n in itertools.count(len(_SYLLABLES)):  # n in base 20, a syllable a digit
        if len(words) >= VOCABULARY:
            break
        syllables = []
        while n:
            n, digit = divmod(n, len(_SYLLABLES))
            syllables.append(_SYLLABLES[digit])
        words.append("".join(syllables))
    weights = [1 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(words))]
    return words, list(itertools.accumulate(weights))


def sentence(rng: random.Random) -> str:
    words, cumulative = vocabulary()
    count = rng.randint(4, 30)
    picks = (bisect.bisect(cumulative, rng.random() * cumulative[-1]) for _ in range(count))
    return " ".join(words[min(i, len(words) - 1)] for i in picks)[:280]


def query(rng: random.Random, ranks: tuple[int, int] = TOPICAL) -> str:
    """One or two words from ``ranks``, log-uniformly (rarer words are searched for more)."""
    words, _ = vocabulary()
    low, high = ranks

    def pick() -> str:
        return words[int(low * (high / low) ** rng.random()) % len(words)]

    return " ".join(pick() for _ in range(rng.choice((1, 1, 2))))
