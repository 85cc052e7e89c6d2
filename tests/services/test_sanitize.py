"""services.sanitize: Markdown renders, and what could run script never survives."""

from __future__ import annotations

from deskql.services.sanitize import render_markdown, sanitize_html


def test_markdown_renders_headings_lists_tables_and_links() -> None:
    html = render_markdown(
        "# Title\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[x](https://e.x)"
    )
    assert "<h1>Title</h1>" in html
    assert "<li>one</li>" in html
    assert "<table>" in html and "<td>2</td>" in html
    assert 'href="https://e.x"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_script_event_handlers_and_javascript_links_are_removed() -> None:
    html = render_markdown(
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[c](javascript:alert(3))"
        '\n\n<a href="JaVaScRiPt:alert(4)">d</a>'
    )
    assert "<script" not in html and "alert(1)" not in html
    assert "onerror" not in html
    # markdown-it refuses the link (its text stays as plain text); nh3 drops the raw <a>'s href
    assert 'href="javascript' not in html.lower() and "<a href" not in html
    assert "[c](javascript:alert(3))" in html
    assert "<img" in html  # the image itself stays, without its handler


def test_sanitize_html_keeps_text_and_drops_styles_and_iframes() -> None:
    out = sanitize_html(
        '<p style="color:red" onclick="x()">żółty 工单</p><iframe src="x"></iframe>'
    )
    assert out == "<p>żółty 工单</p>"
