"""Permalinks (KB-2): made from the title when not given, unique in the organisation, editable,
and never broken.

The rule: a permalink, once an article had it, belongs to that article for good. Every
permalink an article ever had is an ArticlePermalink row (its current one too); an old one
answers 301 to the current one (straight, however many renames: each row points at the article,
not at the next permalink). When an article is deleted its rows stay, pointing nowhere (410 on
the page): a link that still names it never silently leads to another article, and no other
article may take it (DUPLICATE).

Normalising, one rule for titles and given permalinks alike: python-slugify (with
text-unidecode) lower-cases, transliterates (Polish `Zażółć gęślą` -> `zazolc-gesla`, Chinese
`如何重置密码` -> `ru-he-zhong-zhi-mi-ma`) and turns every run of other characters (spaces,
slashes, dots, punctuation) into one `-`. A given permalink that normalises to nothing (only
punctuation, `..`) is INVALID; one longer than MAX_GIVEN characters is TOO_LONG.
"""

from __future__ import annotations

from slugify import slugify
from tortoise.exceptions import IntegrityError

from deskql import models
from deskql.services import uow
from deskql.services.errors import ErrorCode, Errors, ValidationFailed

MAX_LENGTH = 150  # of a stored permalink
MAX_GIVEN = 300  # of a permalink as given, before normalising
FALLBACK = "article"  # a title with no letters or digits (only emoji, say)


def normalise(text: str) -> str:
    """The URL-safe slug of a text: lower-case ASCII letters, digits and single dashes."""
    return slugify(text, max_length=MAX_LENGTH, word_boundary=True, save_order=True)


def clean_given(errors: Errors, value: str, field: str = "permalink") -> str | None:
    """A permalink given by a client, normalised; None (with an error) when unusable."""
    if len(value) > MAX_GIVEN:
        errors.add(field, f"at most {MAX_GIVEN} characters", ErrorCode.TOO_LONG)
        return None
    slug = normalise(value)
    if not slug:
        errors.add(
            field,
            "a permalink needs letters or digits (a-z, 0-9 after normalising)",
            ErrorCode.INVALID,
        )
        return None
    return slug


def is_well_formed(value: str) -> bool:
    """Whether a requested path segment could be a stored permalink at all (cheap check)."""
    return 0 < len(value) <= MAX_LENGTH and normalise(value) == value


async def owner_of(permalink: str) -> tuple[bool, int | None]:
    """(taken, article id): whether any article ever had the permalink, and which (None for a
    deleted article's)."""
    row = await models.ArticlePermalink.filter(permalink=permalink).values_list(
        "article_id", flat=True
    )
    if not row:
        return False, None
    return True, row[0]


async def free_from_title(title: str) -> str:
    """A permalink nobody ever had, from the title: its slug, else slug-2, slug-3, ..."""
    base = normalise(title) or FALLBACK
    base = base[: MAX_LENGTH - 8].rstrip("-") or FALLBACK
    for start in range(1, 10_000, 20):
        candidates = [base if n == 1 else f"{base}-{n}" for n in range(start, start + 20)]
        taken = set(
            await models.ArticlePermalink.filter(permalink__in=candidates).values_list(
                "permalink", flat=True
            )
        )
        for candidate in candidates:
            if candidate not in taken:
                return candidate
    raise RuntimeError("no free permalink")  # 10,000 articles of one title


async def claim(article_id: int, permalink: str, field: str = "permalink") -> None:
    """Make the permalink the article's for good (a no-op when it already is); DUPLICATE when
    another article has or had it, or a deleted article had it."""
    taken, owner = await owner_of(permalink)
    if taken and owner == article_id:
        return
    if taken:
        raise ValidationFailed.one(field, _taken_message(permalink, owner), ErrorCode.DUPLICATE)
    try:
        async with uow.transaction():  # a savepoint: a concurrent claim loses here, cleanly
            await models.ArticlePermalink.create(permalink=permalink, article_id=article_id)
    except IntegrityError:
        raise ValidationFailed.one(
            field, _taken_message(permalink, None), ErrorCode.DUPLICATE
        ) from None


def _taken_message(permalink: str, owner: int | None) -> str:
    if owner is None:
        return f"the permalink {permalink!r} is taken for good (by an article, maybe deleted)"
    return f"the permalink {permalink!r} is another article's (current or old)"


async def history(article_id: int) -> list[str]:
    """Every permalink the article had, oldest first (its current one included)."""
    return list(
        await models.ArticlePermalink.filter(article_id=article_id)
        .order_by("id")
        .values_list("permalink", flat=True)
    )
