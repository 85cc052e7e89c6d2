"""The search index kept in step with the data (see `sync`), built from the records by each
module's builder (`builders`, registered on import), and rebuilt in bulk (`build`)."""

from deskql.services.search.index import builders as _builders  # noqa: F401  (registers)
from deskql.services.search.index.build import SOURCES, build_all, rebuild
from deskql.services.search.index.documents import (
    ACCOUNT,
    ARTICLE,
    BODY_LIMIT,
    CONTACT,
    PRODUCT,
    SUBJECT_MODULES,
    TASK,
    TICKET,
    Source,
    builder,
    modules,
)
from deskql.services.search.index.sync import mark, mark_activity, refresh

__all__ = [
    "ACCOUNT",
    "ARTICLE",
    "BODY_LIMIT",
    "CONTACT",
    "PRODUCT",
    "SOURCES",
    "SUBJECT_MODULES",
    "TASK",
    "TICKET",
    "Source",
    "build_all",
    "builder",
    "mark",
    "mark_activity",
    "modules",
    "rebuild",
    "refresh",
]
