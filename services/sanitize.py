"""HTML that is safe to show: Markdown rendered by markdown-it-py and any HTML (inbound mail,
rendered Markdown) cleaned by nh3 (the Ammonia sanitizer). Neither is hand-written here."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# Tags and attributes kept: what Markdown produces plus what mail clients commonly send.
ALLOWED_TAGS: set[str] = set(nh3.ALLOWED_TAGS) | {"span", "div", "font", "center", "u", "s"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "span": {"title"},
    "div": {"title"},
}
URL_SCHEMES: set[str] = {"http", "https", "mailto", "tel", "cid"}

# CommonMark with tables and strikethrough; raw HTML in the source is allowed through the
# parser and then cleaned by nh3, so `<b>` works and `<script>` does not.
_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(
    ["table", "strikethrough"]
)


def sanitize_html(html: str) -> str:
    """`html` with scripts, event handlers, styles and non-http(s)/mailto links removed."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(source: str) -> str:
    """Markdown `source` rendered to sanitized HTML."""
    return sanitize_html(_markdown.render(source))
