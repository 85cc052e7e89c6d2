"""Highlighted snippets: where the query's words occur in a document's original text.

The index holds folded tokens; the snippet is cut from the original text, found through the
same folding (a map from each folded character back to its original one), so `zolty`
highlights `żółty`. The snippet is HTML: the text escaped, the matches in `<mark>`.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from deskql.services.search.text import fold

WINDOW = 160


@lru_cache(maxsize=8192)
def _fold_char(c: str) -> str:
    return fold(c)


class _FoldTable(dict[int, str]):
    """str.translate's table: each code point to its folding, computed once per character
    (translate runs in C; a Python loop over the characters cost ~0.2 ms a snippet)."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = fold(chr(code))
        return folded


class _OddTable(dict[int, str]):
    """str.translate's table: "" for a character that folds to exactly one, else itself
    (a text that translates to "" keeps every position when folded)."""

    def __missing__(self, code: int) -> str:
        odd = self[code] = "" if len(_FOLD[code]) == 1 else chr(code)
        return odd


_FOLD = _FoldTable()
_ODD = _OddTable()


def _folded_with_origin(text: str) -> tuple[str, list[int] | range]:
    if text.isascii():
        return text.lower(), range(len(text))
    if len(_FOLD) > 65536:  # bounded, like _fold_char's cache
        _FOLD.clear()
        _ODD.clear()
    if not text.translate(_ODD):
        return text.translate(_FOLD), range(len(text))
    chars: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(text):
        f = _fold_char(c)
        chars.append(f)
        origin.extend([i] * len(f))
    return "".join(chars), origin


def is_cjk(c: str) -> bool:
    """Whether a character is of a script written without spaces (Han, Kana, Hangul)."""
    return _cjk(c)


def _cjk(c: str) -> bool:
    return "\u3040" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af"


def _pattern(tokens: list[str], prefix: bool) -> re.Pattern[str] | None:
    if not tokens:
        return None
    parts = []
    for token in sorted(set(tokens), key=len, reverse=True):
        if _cjk(token[0]):
            parts.append(re.escape(token))  # CJK text has no spaces: a bigram matches anywhere
        else:
            tail = "" if prefix else r"(?![^\W_])"
            parts.append(r"(?<![^\W_])" + re.escape(token) + tail)
    return re.compile("|".join(parts))


def spans(text: str, tokens: list[str], *, prefix: bool = False) -> list[tuple[int, int]]:
    """The (start, end) positions in `text` of the words matching the tokens."""
    return _spans(text, _pattern(tokens, prefix))


def _spans(text: str, pattern: re.Pattern[str] | None) -> list[tuple[int, int]]:
    if pattern is None or not text:
        return []
    folded, origin = _folded_with_origin(text)
    return [
        (origin[m.start()], origin[m.end() - 1] + 1)
        for m in pattern.finditer(folded)
        if m.end() > m.start()
    ]


def _first(text: str, pattern: re.Pattern[str] | None, step: int = 300) -> int | None:
    """Where the first match starts, folding the text a piece at a time (long texts whose
    first match comes early cost little)."""
    pos = 0
    while pattern is not None and pos < len(text):
        lead = max(0, pos - 80)  # a word cut by the previous piece's end is seen whole
        found = _spans(text[lead : pos + step], pattern)
        if found:
            return lead + found[0][0]
        pos += step
        step *= 2
    return None


def highlight(text: str, tokens: list[str], *, prefix: bool = False, window: int = WINDOW) -> str:
    """An HTML snippet of `text` around the first match, matches in <mark> (the start of
    the text when nothing matches)."""
    return snippet(text, tokens, prefix=prefix, window=window)[0]


def snippet(
    text: str, tokens: list[str], *, prefix: bool = False, window: int = WINDOW
) -> tuple[str, bool]:
    """(highlight's snippet, whether anything matched)."""
    pattern = _pattern(tokens, prefix)
    first = _first(text, pattern)
    if first is None:
        cut = text[:window]
        return html.escape(cut).replace("\n", " ") + ("…" if len(text) > window else ""), False
    start = max(0, first - window // 3)
    if start > 0:
        space = text.rfind(" ", start - 20, first)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + window)
    out = ["…" if start > 0 else ""]
    pos = start
    for s, e in _spans(text[start:end], pattern):
        s, e = s + start, e + start
        if s < pos:
            continue
        out.append(html.escape(text[pos:s]))
        out.append("<mark>" + html.escape(text[s:e]) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out).replace("\n", " "), True
