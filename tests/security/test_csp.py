"""The Content-Security-Policy allows scripts and styles only from our own files, so no page may
carry an inline script, an inline event handler, a style attribute or a javascript: URL (the
browser would refuse them, or they would be an XSS foothold). Checked twice: every template's
source, and every page a user holding all three roles reaches by following links."""

import re
from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from cpa_network.security import CONTENT_SECURITY_POLICY
from tests.conftest import PROJECT_ROOT, Browser
from tests.factories import make_user
from tests.offers.conversion_helpers import live_setup, postback_url

INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "event handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "javascript: URL": re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I),
}
HREF = re.compile(r'href="([^"#]+)"')
SKIP = re.compile(r"^/(static|c/|r/|creatives/|api/)|\.(png|svg|csv|json|gif)$|/qr\.")
MAX_PAGES = 120


def inline_problems(html: str) -> list[str]:
    return [name for name, pattern in INLINE.items() if pattern.search(html)]


def test_the_policy_forbids_inline_code_and_framing():
    policy = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_no_template_has_inline_code():
    problems = {}
    for path in sorted(Path(PROJECT_ROOT, "templates").rglob("*.html")):
        found = inline_problems(path.read_text(encoding="utf-8"))
        if found:
            problems[str(path.relative_to(PROJECT_ROOT))] = found
    assert problems == {}


def test_no_rendered_page_has_inline_code(app, app_context):
    """Breadth-first over the site as advertiser, publisher and operator at once."""
    make_user("advertiser", "publisher", "admin", email="all@example.com")
    offer, _link, click_id = live_setup()
    browser = Browser(app.test_client())
    browser.get(postback_url(offer, click_id))
    assert browser.login("all@example.com").status_code == 302
    start = ["/dashboard", "/", f"/catalog/{offer.id}", "/account", "/account/api-keys"]
    seen, queue, problems = set(start), deque(start), {}
    while queue and len(seen) <= MAX_PAGES:
        path = queue.popleft()
        response = browser.get(path)
        assert response.status_code < 500, path
        if "text/html" not in response.content_type:
            continue
        assert "Content-Security-Policy" in response.headers, path
        html = response.get_data(as_text=True)
        found = inline_problems(html)
        if found:
            problems[path] = found
        for href in HREF.findall(html):
            url = urlsplit(urljoin(path, href.replace("&amp;", "&")))
            target = url.path + (f"?{url.query}" if url.query else "")
            if (url.netloc in ("", "localhost") and target not in seen
                    and not SKIP.search(url.path) and url.path != "/logout"):
                seen.add(target)
                queue.append(target)
    assert problems == {}
    assert len(seen) > 30, sorted(seen)  # the crawl really went through the site
