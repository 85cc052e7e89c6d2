"""Snippets: matches found through the folding are marked at their places in the original
text, whether every character folds to exactly one (the translate fast path) or some fold to
two (ß→ss, æ→ae) or to none (a lone combining mark), which shift the positions."""

from __future__ import annotations

import pytest

from deskql.services.search import snippets

CASES = [
    ("Kupiłem żółty kabel", ["zolty"], "Kupiłem <mark>żółty</mark> kabel"),
    ("ŻÓŁTY łańcuch", ["lancuch"], "ŻÓŁTY <mark>łańcuch</mark>"),
    ("Straße nach żółty", ["zolty"], "Straße nach <mark>żółty</mark>"),
    ("Die Straße ist żółta", ["strasse"], "Die <mark>Straße</mark> ist żółta"),
    ("æble og ærter", ["aerter"], "æble og <mark>ærter</mark>"),
    ("a\u0301 zolty żółty", ["zolty"], "a\u0301 <mark>zolty</mark> <mark>żółty</mark>"),
    ("这是一个工单系统", ["工单"], "这是一个<mark>工单</mark>系统"),
    ("Printer <b> jam", ["printer"], "<mark>Printer</mark> &lt;b&gt; jam"),
]


@pytest.mark.parametrize(("text", "tokens", "expected"), CASES)
def test_snippet_marks_the_original_words(text: str, tokens: list[str], expected: str) -> None:
    assert snippets.highlight(text, tokens) == expected


def test_positions_equal_the_per_character_folding() -> None:
    """The fast path gives the positions the character-by-character folding gives."""
    texts = [text for text, _, _ in CASES] + ["Łódź ß ǅ ﬁ İstanbul żółw", "x" * 50 + "żółty"]
    for text in texts:
        folded, origin = snippets._folded_with_origin(text)
        chars: list[str] = []
        slow: list[int] = []
        for i, c in enumerate(text):
            f = snippets._fold_char(c)
            chars.append(f)
            slow.extend([i] * len(f))
        assert (folded, list(origin)) == ("".join(chars), slow), text
