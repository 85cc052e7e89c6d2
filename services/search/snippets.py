"""Highlighted snippets: where the query's words occur in a document's original text.

The index holds folded tokens; the snippet is cut from the original text, found through the
same folding (a map from each folded character back to its original one), so `zolty`
highlights `żółty`. The snippet is HTML: the text escaped, the matches in `<mark>`.
"""

from __future__ import annotations

import html
import re

from services.search.text import fold

WINDOW = 160


def _folded_with_origin(text: str) -> tuple[str, list[int]]:
    chars: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(text):
        f = fold(c)
        chars.append(f)
        origin.extend([i] * len(f))
    return "".join(chars), origin


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
    pattern = _pattern(tokens, prefix)
    if pattern is None or not text:
        return []
    folded, origin = _folded_with_origin(text)
    out = []
    for m in pattern.finditer(folded):
        if m.end() <= m.start():
            continue
        out.append((origin[m.start()], origin[m.end() - 1] + 1))
    return out


def highlight(text: str, tokens: list[str], *, prefix: bool = False, window: int = WINDOW) -> str:
    """An HTML snippet of `text` around the first match, matches in <mark> (the start of
    the text when nothing matches)."""
    found = spans(text, tokens, prefix=prefix)
    if not found:
        cut = text[:window]
        return html.escape(cut) + ("…" if len(text) > window else "")
    first = found[0][0]
    start = max(0, first - window // 3)
    if start > 0:
        space = text.rfind(" ", start - 20, first)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + window)
    out = ["…" if start > 0 else ""]
    pos = start
    for s, e in found:
        if s < pos or s >= end:
            continue
        out.append(html.escape(text[pos:s]))
        out.append("<mark>" + html.escape(text[s:e]) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out).replace("\n", " ")
