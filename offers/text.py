"""Offer descriptions: Markdown rendered to HTML, then sanitized with nh3 (Rust's ammonia)."""

import markdown
import nh3

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "h2", "h3", "h4",
                "blockquote", "code", "pre", "hr", "table", "thead", "tbody", "tr", "th", "td"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
MAX_MARKDOWN_LENGTH = 20_000


def render_markdown(source: str) -> str:
    """Safe HTML for `source`: no scripts, no event handlers, links only to http(s)/mailto."""
    html = markdown.markdown(source[:MAX_MARKDOWN_LENGTH], extensions=["tables", "sane_lists"],
                             output_format="html")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener")
