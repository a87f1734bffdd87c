"""Every page reachable by following links, for every role, on the demo network: no 5xx.

Loads the demo (the same service functions the site uses), logs in as each demo role and
follows every same-site GET link breadth-first, so a template or view that breaks on real
data fails here even when no unit test opens that page.
"""

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

from cpa_network.demo import DEMO_PASSWORD, load_demo
from tests.conftest import Browser

HREF = re.compile(r'href="([^"#]+)"')
SKIP = re.compile(r"^/(static|c/|r/|creatives/|api/v1/openapi)|\.(png|svg|csv)$|/qr\.")
MAX_PAGES = 250


def crawl(client, start="/dashboard"):
    seen, queue, failures = {start}, deque([start]), []
    while queue and len(seen) <= MAX_PAGES:
        path = queue.popleft()
        response = client.get(path)
        if response.status_code >= 500:
            failures.append((path, response.status_code))
        if "text/html" not in response.content_type:
            continue
        for href in HREF.findall(response.get_data(as_text=True)):
            url = urlsplit(urljoin(path, href.replace("&amp;", "&")))
            if url.netloc not in ("", "localhost"):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if target not in seen and not SKIP.search(url.path):
                seen.add(target)
                queue.append(target)
    return seen, failures


DEMO_ROLES = ["admin@example.com", "adv1@example.com", "pub01@example.com", "pub09@example.com"]


def test_no_page_fails_for_any_demo_role(app, app_context):
    """One test for all roles: the demo loads once (tables are emptied after every test)."""
    load_demo()
    for email in DEMO_ROLES:
        client = Browser(app.test_client())
        assert client.login(email, DEMO_PASSWORD).status_code == 302, email
        seen, failures = crawl(client)
        assert failures == [], email
        assert len(seen) > 10, (email, sorted(seen))  # the crawl really went somewhere
