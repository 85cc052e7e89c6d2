"""Text for the search index: one folding and one tokeniser for indexing AND querying.

Both engines (SQLite FTS5 and PostgreSQL tsvector) receive text this module already turned
into space-separated tokens, so they behave the same and no user input ever reaches either
engine's query syntax:

- folding: case-folded, diacritics removed (NFKD without combining marks) plus the letters
  NFKD does not decompose (ł→l, ø→o, đ→d, ß→ss, æ→ae, œ→oe, ...): `zolty` finds `żółty`;
- tokens are runs of letters and digits; everything else separates them (`"`, `*`, `:`,
  `(`, `-`, `'`, `%`, `_`, NUL, lone surrogates);
- CJK scripts have no spaces: a run of Han/Kana/Hangul characters becomes its overlapping
  character bigrams (`这是一个工单系统` → 这是 是一 一个 个工 工单 单系 系统), and a query is
  tokenised the same way, so `工单` finds it; a query bigram sequence is a phrase.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Letters NFKD leaves whole; folded by hand so both stacks agree.
_EXTRA = str.maketrans(
    {
        "ł": "l",
        "Ł": "l",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "þ": "th",
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ı": "i",
        "ħ": "h",
    }
)
_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u3100-\u312f]+"
)
MAX_TOKEN = 60  # longer "words" (base64, hashes) are cut; both sides cut the same way


def fold(text: str) -> str:
    """Case-folded text without diacritics (ł→l included): the one folding of the index."""
    text = text.translate(_EXTRA)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold()


def _split_run(run: str) -> list[str]:
    """Tokens of one letters-and-digits run: CJK parts as bigrams, the rest whole."""
    out: list[str] = []
    pos = 0
    for m in _CJK.finditer(run):
        if m.start() > pos:
            out.append(run[pos : m.start()][:MAX_TOKEN])
        cjk = m.group()
        if len(cjk) == 1:
            out.append(cjk)
        else:
            out.extend(cjk[i : i + 2] for i in range(len(cjk) - 1))
        pos = m.end()
    if pos < len(run):
        out.append(run[pos:][:MAX_TOKEN])
    return out


def words(text: str) -> list[list[str]]:
    """The folded words of a text, each as its tokens (a CJK run gives several bigrams)."""
    return [_split_run(run) for run in _WORD.findall(fold(_clean(text)))]


def tokens(text: str) -> list[str]:
    """The folded tokens of a text, in order (what the index stores)."""
    return [t for word in words(text) for t in word]


def terms(text: str, limit: int = 200_000) -> str:
    """The index form of a text: its tokens separated by spaces (at most `limit` chars)."""
    return " ".join(tokens(text[:limit]))


def _clean(text: str) -> str:
    """Text without NUL and lone surrogates (neither database stores them)."""
    if "\x00" in text:
        text = text.replace("\x00", " ")
    return text.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(text) else text


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def clean(text: str) -> str:
    """Text safe to store: NUL and lone surrogates replaced."""
    return _clean(text)


@dataclass
class ParsedQuery:
    """A search box's text as the engines need it: groups of tokens that must all match.

    Each group is a phrase (tokens adjacent, in order); a plain word is a group of one token
    (or of its bigrams, for CJK). `ticket_number` is set by a leading `#123`.
    """

    groups: list[list[str]] = field(default_factory=list)
    ticket_number: int | None = None

    @property
    def empty(self) -> bool:
        """No words to look for."""
        return not self.groups

    def all_tokens(self) -> list[str]:
        """Every token, for highlighting."""
        return [t for g in self.groups for t in g]


_NUMBER = re.compile(r"^\s*#(\d{1,9})(?!\w)")


def parse(query: str) -> ParsedQuery:
    """Words, "quoted phrases" and a leading `#123`; every other character is plain text."""
    query = _clean(query)
    parsed = ParsedQuery()
    m = _NUMBER.match(query)
    if m:
        parsed.ticket_number = int(m.group(1))
        query = query[m.end() :]
    # Text between pairs of double quotes is a phrase; an unpaired quote is just a separator.
    parts = query.split('"')
    for i, part in enumerate(parts):
        inside = i % 2 == 1 and i < len(parts) - 1
        part_words = words(part)
        if inside:
            phrase = [t for w in part_words for t in w]
            if phrase:
                parsed.groups.append(phrase)
        else:
            parsed.groups.extend(w for w in part_words if w)
    # The same group twice adds nothing.
    seen: set[tuple[str, ...]] = set()
    unique = []
    for g in parsed.groups:
        if tuple(g) not in seen:
            seen.add(tuple(g))
            unique.append(g)
    parsed.groups = unique[:32]
    return parsed


def first_letter(name: str) -> str:
    """The alphabetical bucket of a name: its first letter in upper case (Ł, Ś, Ż stay
    themselves), or `#` when it does not start with a letter."""
    name = _clean(name).strip()
    if not name or not name[0].isalpha():
        return "#"
    letter = unicodedata.normalize("NFC", name[0]).upper()
    return letter[0]
