"""Search (SRC-1..4): `search`, `searchSuggest`, `contactLetters`, `accountLetters`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from deskql.resolvers import search as r
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.search_types import (
    SearchConnection,
    SearchCriterion,
    SearchFacetInput,
    SearchHit,
    SearchLetter,
    SearchModule,
)

ModulesArg = Annotated[
    list[SearchModule] | None,
    strawberry.argument(description="Only these modules; null or empty: all."),
]


@strawberry.type
class SearchQueries:
    @strawberry.field(
        description="Search every module at once (SRC-1): words (all required, accents and case "
        'ignored: `zolty` finds `żółty`), "quoted phrases", Chinese without spaces; a leading '
        "`#123` puts ticket 123 first. Every other character is plain text. Hits come ranked by "
        "relevance, then recency (relevance is computed for the 500 newest matches and the 500 "
        "newest title matches; further matches follow newest first with score 0), with facets "
        "(SRC-2) and advanced criteria (SRC-3). Only "
        "records you may see are found or counted; spam only with includeSpam. Pages by "
        "keyset cursors (`first`/`after`, `last`/`before`) tied to this search (query, "
        "modules, facets, criteria, letter): a record indexed between two pages does not "
        "shift the next one; offset cursors handed out before still page by position.",
        permission_classes=[IsAuthenticated],
    )
    async def search(
        self,
        info: strawberry.Info,
        query: Annotated[
            str,
            strawberry.argument(
                description="The search box's text, up to 1,000 characters; may be empty only "
                "with criteria or a letter."
            ),
        ],
        modules: ModulesArg = None,
        facets: Annotated[
            list[SearchFacetInput] | None,
            strawberry.argument(description="Facet values that narrow the hits."),
        ] = None,
        criteria: Annotated[
            list[SearchCriterion] | None,
            strawberry.argument(description="Advanced criteria, all of which must hold."),
        ] = None,
        letter: Annotated[
            str | None,
            strawberry.argument(
                description="SRC-4: contacts and accounts whose name starts with this letter "
                "(`Ł`, `Ś`, ... or `#` for names not starting with a letter), by name."
            ),
        ] = None,
        include_spam: Annotated[
            bool, strawberry.argument(description="Also find spam tickets.")
        ] = False,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor after which the page starts.")
        ] = None,
    ) -> SearchConnection:
        return await r.search(
            info,
            query=query,
            modules=modules,
            facets=facets,
            criteria=criteria,
            letter=letter,
            include_spam=include_spam,
            first=first,
            after=after,
        )

    @strawberry.field(
        description="Type-ahead for the search box (SRC-1): records whose name, email, subject "
        "or title has words starting with the prefix's words, from two characters on, newest "
        "first (score 1); near spellings fill up the list on PostgreSQL (score: their "
        "similarity, below 1). Only records you may see; no spam.",
        permission_classes=[IsAuthenticated],
    )
    async def search_suggest(
        self,
        info: strawberry.Info,
        prefix: Annotated[str, strawberry.argument(description="What was typed so far.")],
        modules: ModulesArg = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many, 0 to 20 (default 10).")
        ] = None,
    ) -> list[SearchHit]:
        return await r.search_suggest(info, prefix=prefix, modules=modules, first=first)

    @strawberry.field(
        description="SRC-4: the first letters of contact names with their counts (A-Z always, "
        "other letters such as Ł when some name has them, and `#`).",
        permission_classes=[IsAuthenticated],
    )
    async def contact_letters(self, info: strawberry.Info) -> list[SearchLetter]:
        return await r.letters(info, "contact")

    @strawberry.field(
        description="SRC-4: the first letters of account names with their counts.",
        permission_classes=[IsAuthenticated],
    )
    async def account_letters(self, info: strawberry.Info) -> list[SearchLetter]:
        return await r.letters(info, "account")
