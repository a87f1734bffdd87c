"""Links that keep a page's filters (pagers, export, bulk review) carry the filter keys and no
others: any other query key (`endpoint`, `_external`, `_scheme`...) used to reach `url_for` as
one of its own arguments, a 500 (`endpoint`) or a link to another scheme and host."""

from html import unescape
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from cpa_network.extensions import db
from offers.conversion_models import Conversion
from tests.factories import make_user
from tests.offers.helpers import make_offer
from tests.publishers.exchange_helpers import add_conversions

HOSTILE = "endpoint=x&_external=1&_scheme=javascript&_anchor=a&_method=POST"


def hrefs(html: str, path: str) -> list[str]:
    """Every href/action in the page that points at `path` (query strings unescaped)."""
    found = []
    for attribute in ('href="', 'action="'):
        for part in html.split(attribute)[1:]:
            url = unescape(part.split('"')[0])
            if urlsplit(url).path == path:
                found.append(url)
    return found


def assert_only_filters(url: str, expected: dict) -> None:
    parts = urlsplit(url)
    assert not parts.scheme and not parts.netloc and not parts.fragment, url
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == expected, url


def test_catalog_pages_keep_the_filters_and_nothing_else(client, app_context):
    advertiser = make_user("advertiser")
    for n in range(21):  # one more than a page
        make_offer(advertiser, name=f"Pager offer {n}")
    publisher = make_user("publisher")
    client.login(publisher.email)
    assert client.get("/catalog?endpoint=x").status_code == 200
    response = client.get(f"/catalog?q=Pager&sort=newest&{HOSTILE}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "javascript:" not in html
    pager = [url for url in hrefs(html, "/catalog") if "page=" in url]
    assert len(pager) == 1
    assert_only_filters(pager[0], {"q": "Pager", "sort": "newest", "page": "2"})
    second = client.get(f"/catalog?q=Pager&sort=newest&page=2&{HOSTILE}")
    assert second.status_code == 200
    back = [url for url in hrefs(second.get_data(as_text=True), "/catalog") if "page=" in url]
    assert_only_filters(back[0], {"q": "Pager", "sort": "newest", "page": "1"})


def test_a_publishers_conversion_pages_keep_the_filters_and_nothing_else(client, app_context):
    publisher = make_user("publisher")
    add_conversions(publisher, 51)  # one more than a page
    client.login(publisher.email)
    response = client.get(f"/conversions?status=approved&sub=&{HOSTILE}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "javascript:" not in html
    pager = [url for url in hrefs(html, "/conversions") if "page=" in url]
    assert len(pager) == 1
    assert_only_filters(pager[0], {"status": "approved", "page": "2"})


def advertiser_of_conversions(count: int, status: str):
    publisher = make_user("publisher")
    add_conversions(publisher, count, status=status)
    advertiser_id = db.session.scalar(select(Conversion.advertiser_id).where(
        Conversion.publisher_id == publisher.id).limit(1))
    return db.session.get(type(publisher), advertiser_id)


def test_an_advertisers_conversion_page_keeps_the_filters_and_nothing_else(client,
                                                                          app_context):
    advertiser = advertiser_of_conversions(51, "pending")
    client.login(advertiser.email)
    response = client.get(f"/advertiser/conversions?status=pending&held=&{HOSTILE}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "javascript:" not in html
    (export,) = hrefs(html, "/advertiser/conversions/export.csv")
    assert_only_filters(export, {"status": "pending"})
    (bulk,) = hrefs(html, "/advertiser/conversions/bulk")
    assert_only_filters(bulk, {"status": "pending"})
    pager = [url for url in hrefs(html, "/advertiser/conversions") if "page=" in url]
    assert len(pager) == 1
    assert_only_filters(pager[0], {"status": "pending", "page": "2"})
    # On a later page the bulk review keeps the page too, to come back to it.
    second = client.get(f"/advertiser/conversions?status=pending&page=2&{HOSTILE}")
    (bulk,) = hrefs(second.get_data(as_text=True), "/advertiser/conversions/bulk")
    assert_only_filters(bulk, {"status": "pending", "page": "2"})


def test_the_bulk_confirmation_keeps_the_filters_and_nothing_else(client, app_context):
    advertiser = advertiser_of_conversions(1, "pending")
    client.login(advertiser.email)
    page = "/advertiser/conversions?status=pending"
    response = client.submit(f"/advertiser/conversions/bulk?status=pending&{HOSTILE}",
                             {"scope": "filter", "approve": "1"}, page=page)
    assert response.status_code == 200
    (action,) = hrefs(response.get_data(as_text=True), "/advertiser/conversions/bulk")
    assert_only_filters(action, {"status": "pending"})


def test_the_bulk_confirmation_page_itself_keeps_the_filters_and_nothing_else(app):
    """The confirmation's template alone, with a page number: its form posts back to the
    filter and page it was asked from."""
    from types import SimpleNamespace

    from flask import render_template, request

    from offers.conversion_forms import DecisionForm

    url = f"/advertiser/conversions/bulk?status=pending&page=2&{HOSTILE}"
    with app.test_request_context(url, method="POST", data={"approve": "1"}):
        html = render_template(
            "offers/bulk_confirm.html", form=DecisionForm(), decision="approve",
            plan=SimpleNamespace(ids=[1], totals={"USD": 1_00}, truncated=False),
            everything=True, ids=[], back="/advertiser/conversions", args=request.args)
    (action,) = hrefs(html, "/advertiser/conversions/bulk")
    assert_only_filters(action, {"status": "pending", "page": "2"})
