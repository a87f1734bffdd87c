"""Navigation and dashboard cards per role; each package registers its own in create_app."""

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

ROLE_LABELS = {"advertiser": _l("Advertiser"), "publisher": _l("Publisher"),
               "admin": _l("Operator")}


@dataclass(frozen=True)
class NavItem:
    """A link in the top bar (and a card on the dashboard when it has `text`)."""

    role: str  # advertiser, publisher, admin, or "any"
    endpoint: str
    label: object
    text: object = None

    def visible_to(self, user) -> bool:
        return self.role == "any" or user.has_role(self.role)


def register_nav(app: Flask, *items: NavItem) -> None:
    app.extensions.setdefault("cpa_nav", []).extend(items)


def _items(app: Flask) -> list[NavItem]:
    return [i for i in app.extensions.get("cpa_nav", []) if i.visible_to(current_user)]


def init_template_helpers(app: Flask) -> None:
    """Helpers every template may call: navigation, CSRF field, role names."""

    @app.context_processor
    def helpers():
        def nav_items():
            items = _items(app)
            # One item is current: the page's own, else the first of its blueprint (several
            # items of one blueprint must not all light up on a page none of them names).
            current = next((i for i in items if i.endpoint == request.endpoint), None)
            if current is None and request.blueprint:
                current = next((i for i in items
                                if i.endpoint.startswith(request.blueprint + ".")), None)
            return [{"url": url_for(i.endpoint), "label": i.label, "active": i is current}
                    for i in items]

        def dashboard_cards():
            return [{"url": url_for(i.endpoint), "title": i.label, "text": i.text}
                    for i in _items(app) if i.text]

        def csrf_field():
            return Markup('<input type="hidden" name="csrf_token" value="%s">') % escape(
                generate_csrf())

        return {"nav_items": nav_items, "dashboard_cards": dashboard_cards,
                "csrf_field": csrf_field, "role_label": lambda r: ROLE_LABELS.get(r, r),
                "current_locale": lambda: str(get_locale() or "en")}


CORE_NAV = (
    NavItem("admin", "admin.users", _l("Users"), _l("Find accounts, block and unblock them.")),
    NavItem("any", "notifications.index", _l("Notifications")),
    NavItem("any", "accounts.api_keys", _l("API"),
            _l("Create API keys to work with the network from your own systems.")),
)
