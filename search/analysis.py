"""How text becomes search terms, the same way for documents and for queries.

Words of scripts that separate words with spaces are tokenised on word boundaries, folded
(case, accents) and stemmed as English; Chinese and Japanese, which write no spaces, are cut
into overlapping character pairs (bigrams, as Lucene's CJK analyser does), so a word of any
length is found as the phrase of its pairs; emoji are terms of their own, so an emoji-only post
can be found by its emoji.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.support.charset import accent_map

# Han, Hiragana, Katakana (full and half width), and CJK compatibility ideographs.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_EMOJI = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff"
_TOKEN = re.compile(
    rf"(?P<cjk>[{_CJK}]+)"
    rf"|(?P<word>[^\W_{_CJK}]+(?:['’.][^\W_{_CJK}]+)*)"
    rf"|(?P<emoji>[{_EMOJI}])"
)


class ScriptTokenizer(Tokenizer):
    """Words, CJK bigrams and single emoji, with positions so that phrases work."""

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for start, end in _spans(value) if tokenize else [(0, len(value))]:
            token.text = value[start:end]
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = token.text
            if positions:
                token.pos = pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            pos += 1
            yield token


def _spans(value: str) -> Iterator[tuple[int, int]]:
    for match in _TOKEN.finditer(value):
        start, end = match.span()
        if match.lastgroup != "cjk" or end - start == 1:
            yield start, end
        else:
            for offset in range(start, end - 1):
                yield offset, offset + 2


def text_analyzer() -> Analyzer:
    """For post text and bios: folded, stop words dropped, English stems."""
    return (
        ScriptTokenizer()
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(minsize=1)
        | StemFilter(lang="en", cachesize=50_000)
    )


def name_analyzer() -> Analyzer:
    """For usernames and display names: folded, whole words (prefix queries find "ali…")."""
    return ScriptTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def terms(analyzer: Analyzer, value: str) -> list[str]:
    """The terms ``value`` becomes in a field analysed by ``analyzer``, in order."""
    return [token.text for token in analyzer(value)]
