"""A local fake of the Stripe API, for the real `stripe` SDK (pointed at it by STRIPE_API_BASE).

It speaks Stripe's wire format: form-encoded bodies with bracket notation, bearer secret keys,
JSON objects, `{"error": {"type", "code", "message", "param"}}` errors, and idempotency keys
(the same key and parameters replay the saved response with `Idempotent-Replayed: true`; the same
key with other parameters is a 400 `idempotency_error`). It also signs webhook events the way
Stripe does (`Stripe-Signature: t=...,v1=HMAC-SHA256(secret, "t.payload")`).

Extend it with `route(method, pattern, handler)`: a handler takes (params, match groups) and
returns (status, body) or raises `StripeFailure`. Tests read what it received
(`received(...)`) and inject failures (`fail_next(...)`) - an injected failure happens before
idempotency, like an outage in front of Stripe, so a retry with the same key can succeed.
`delay_next(...)` processes a request and then holds its response back: a client timeout after
Stripe did the work, or a window in which a test kills the caller.

Objects: Checkout Sessions, Refunds (create, retrieve, list by `payment_intent`), Connect
Express accounts and account links, Transfers (create, retrieve, list by `transfer_group` /
`destination`). The platform's available balance per currency (`balance`) pays transfers; more
than it is Stripe's `balance_insufficient`. Payment intents and their charges (retrieve), and
disputes of them (`dispute(payment_intent)`, the object the `charge.dispute.*` events carry).
"""

import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tests.stripe_fake_connect import ConnectObjects, StripeFailure

API_KEY = "sk_test_fake_4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_test_fake_secret"


@dataclass
class Received:
    method: str
    path: str
    params: dict
    headers: dict


@dataclass
class Failure:
    method: str
    path_re: re.Pattern
    status: int
    body: dict
    times: int | None  # None: every time


@dataclass
class Delay:
    method: str
    path_re: re.Pattern
    seconds: float
    times: int | None


@dataclass
class FakeStripe(ConnectObjects):
    routes: list = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    delays: list[Delay] = field(default_factory=list)
    objects: dict[str, dict] = field(default_factory=dict)
    refund_status: str = "succeeded"  # what new refunds report; "pending" for async refunds
    # The platform's available balance per currency, in minor units: what transfers can pay.
    balance: dict[str, int] = field(default_factory=lambda: {
        "usd": 10**12, "eur": 10**12, "rub": 10**12})

    def __post_init__(self):
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._idempotency: dict[str, tuple[str, dict, int, dict]] = {}
        self._ids = itertools.count(1)
        self.route("POST", r"/v1/checkout/sessions", self.create_checkout_session)
        self.route("GET", r"/v1/checkout/sessions/(?P<id>[^/]+)", self.retrieve("checkout.session"))
        self.route("POST", r"/v1/refunds", self.create_refund)
        self.route("GET", r"/v1/refunds", self.list_refunds)
        self.route("GET", r"/v1/refunds/(?P<id>[^/]+)", self.retrieve("refund"))
        self.route("POST", r"/v1/accounts", self.create_account)
        self.route("GET", r"/v1/accounts/(?P<id>[^/]+)", self.retrieve("account"))
        self.route("POST", r"/v1/account_links", self.create_account_link)
        self.route("POST", r"/v1/transfers", self.create_transfer)
        self.route("GET", r"/v1/transfers", self.list_transfers)
        self.route("GET", r"/v1/transfers/(?P<id>[^/]+)", self.retrieve("transfer"))
        self.route("GET", r"/v1/charges/(?P<id>[^/]+)", self.retrieve("charge"))
        self.route("GET", r"/v1/payment_intents/(?P<id>[^/]+)", self.retrieve("payment_intent"))

    # --- wiring -------------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def start(self) -> "FakeStripe":
        fake = self

        class Handler(_Handler):
            stripe = fake

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases held responses
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, method: str, path: str, status: int = 500, type_: str = "api_error",
                  code: str | None = None, message: str = "An unknown error occurred",
                  times: int | None = 1) -> None:
        """Answer the next `times` matching calls (None: all of them) with this error."""
        body = StripeFailure(status, type_, message, code).body
        self.failures.append(Failure(method, re.compile(f"^{path}"), status, body, times))

    def delay_next(self, method: str, path: str, seconds: float, times: int | None = 1) -> None:
        """Process the next `times` matching calls, then hold each response for `seconds`."""
        self.delays.append(Delay(method, re.compile(f"^{path}"), seconds, times))

    def forget_idempotency_keys(self) -> None:
        """What Stripe does after 24 hours: a key it saw becomes new again."""
        with self._lock:
            self._idempotency.clear()

    def take_delay(self, method: str, path: str) -> float:
        with self._lock:
            for delay in self.delays:
                if delay.method == method and delay.path_re.match(path) and delay.times != 0:
                    if delay.times is not None:
                        delay.times -= 1
                    return delay.seconds
        return 0.0

    def hold(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def received(self, method: str | None = None, path: str | None = None) -> list[Received]:
        return [r for r in self.requests if (method is None or r.method == method)
                and (path is None or re.match(f"^{path}$", r.path))]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):04d}{secrets.token_hex(6)}"

    # --- dispatch -----------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict, headers: dict) -> tuple[int, dict, dict]:
        with self._lock:
            self.requests.append(Received(method, path, params, headers))
            if headers.get("authorization") != f"Bearer {API_KEY}":
                error = StripeFailure(401, "invalid_request_error", "Invalid API Key provided.")
                return error.status, error.body, {}
            for failure in self.failures:
                if failure.method == method and failure.path_re.match(path) and failure.times != 0:
                    if failure.times is not None:
                        failure.times -= 1
                    return failure.status, failure.body, {}
            key = headers.get("idempotency-key") if method == "POST" else None
            if key and key in self._idempotency:
                first_request, first_params, status, body = self._idempotency[key]
                if (first_request, first_params) != (f"{method} {path}", params):
                    error = StripeFailure(
                        400, "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters "
                        f"they were first used with. Try using a key other than '{key}' if you "
                        "meant to execute a different request.")
                    return error.status, error.body, {}
                return status, body, {"Idempotent-Replayed": "true"}
            status, body = self._dispatch(method, path, params)
            if key:
                self._idempotency[key] = (f"{method} {path}", params, status, body)
            return status, body, {}

    def _dispatch(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        for route_method, pattern, handler in self.routes:
            match = pattern.match(path)
            if route_method == method and match:
                try:
                    return handler(params, **match.groupdict())
                except StripeFailure as error:
                    return error.status, error.body
        return 404, StripeFailure(404, "invalid_request_error",
                                  f"Unrecognized request URL ({method}: {path}).").body

    # --- Stripe objects -----------------------------------------------------------------------

    def retrieve(self, object_type: str):
        def handler(params, id):
            found = self.objects.get(id)
            if found is None or found["object"] != object_type:
                raise StripeFailure(404, "invalid_request_error",
                                    f"No such {object_type}: '{id}'", "resource_missing", "id")
            return 200, found

        return handler

    def create_checkout_session(self, params):
        for name in ("mode", "success_url", "line_items"):
            if not params.get(name):
                raise StripeFailure(400, "invalid_request_error",
                                    f"Missing required param: {name}.", "parameter_missing", name)
        items = params["line_items"]
        prices = [item["price_data"] for item in items]
        total = sum(int(p["unit_amount"]) * int(item.get("quantity", 1))
                    for p, item in zip(prices, items, strict=True))
        session_id = self.new_id("cs")
        session = {
            "id": session_id, "object": "checkout.session", "mode": params["mode"],
            "status": "open", "payment_status": "unpaid", "amount_total": total,
            "currency": prices[0]["currency"], "url": f"{self.url}/c/pay/{session_id}",
            "success_url": params["success_url"], "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}), "payment_intent": None,
            "created": int(time.time()), "livemode": False,
        }
        self.objects[session_id] = session
        self.objects[f"{session_id}:payment_intent_data"] = params.get("payment_intent_data", {})
        return 200, session

    def create_refund(self, params):
        intent = self.objects.get(params.get("payment_intent", ""))
        if intent is None or intent["object"] != "payment_intent":
            raise StripeFailure(400, "invalid_request_error",
                                f"No such payment_intent: '{params.get('payment_intent')}'",
                                "resource_missing", "payment_intent")
        remaining = intent["amount"] - intent["amount_refunded"]
        amount = int(params.get("amount", remaining))
        if remaining == 0:
            raise StripeFailure(400, "invalid_request_error", "Charge has already been refunded.",
                                "charge_already_refunded")
        if amount > remaining:
            raise StripeFailure(400, "invalid_request_error",
                                f"Refund amount ({amount}) is greater than unrefunded amount on "
                                f"charge ({remaining})", "amount_too_large", "amount")
        intent["amount_refunded"] += amount
        refund = {"id": self.new_id("re"), "object": "refund", "amount": amount,
                  "currency": intent["currency"], "payment_intent": intent["id"],
                  "status": self.refund_status, "metadata": params.get("metadata", {}),
                  "created": int(time.time())}
        self.objects[refund["id"]] = refund
        return 200, refund

    def list_refunds(self, params):
        """Newest first, optionally those of one payment intent; `limit` (default 10) and
        `starting_after` page through them as Stripe does."""
        found = [o for o in list(self.objects.values()) if o.get("object") == "refund"
                 and params.get("payment_intent") in (None, "", o["payment_intent"])][::-1]
        if params.get("starting_after"):
            ids = [r["id"] for r in found]
            found = found[ids.index(params["starting_after"]) + 1:]
        limit = int(params.get("limit", 10))
        return 200, {"object": "list", "url": "/v1/refunds", "data": found[:limit],
                     "has_more": len(found) > limit}

    # --- what happens on Stripe's side, for tests --------------------------------------------

    def post(self, path: str, params: dict, idempotency_key: str | None = None) -> dict:
        """A call as the SDK would make it (params already decoded), e.g. from a killed job."""
        headers = {"authorization": f"Bearer {API_KEY}"}
        if idempotency_key:
            headers["idempotency-key"] = idempotency_key
        status, body, _ = self.handle("POST", path, params, headers)
        assert status == 200, body
        return body

    def charge_of(self, payment_intent_id: str) -> dict:
        """The card charge of a paid payment intent (made on first use)."""
        intent = self.objects[payment_intent_id]
        if not intent.get("latest_charge"):
            charge = {"id": self.new_id("ch"), "object": "charge", "amount": intent["amount"],
                      "currency": intent["currency"], "payment_intent": intent["id"],
                      "paid": True, "disputed": False, "created": int(time.time())}
            self.objects[charge["id"]] = charge
            intent["latest_charge"] = charge["id"]
        return self.objects[intent["latest_charge"]]

    def dispute(self, payment_intent_id: str, amount: int | None = None,
                status: str = "needs_response", reason: str = "fraudulent") -> dict:
        """The cardholder disputes the payment intent's charge: the dispute object as Stripe's
        `charge.dispute.*` events carry it (change `status` for the later ones)."""
        charge = self.charge_of(payment_intent_id)
        charge["disputed"] = True
        dispute = {"id": self.new_id("dp"), "object": "dispute", "charge": charge["id"],
                   "payment_intent": payment_intent_id,
                   "amount": charge["amount"] if amount is None else amount,
                   "currency": charge["currency"], "status": status, "reason": reason,
                   "is_charge_refundable": False, "balance_transactions": [],
                   "evidence_details": {"due_by": int(time.time()) + 7 * 86400,
                                        "has_evidence": False, "past_due": False,
                                        "submission_count": 0},
                   "metadata": {}, "created": int(time.time()), "livemode": False}
        self.objects[dispute["id"]] = dispute
        return dict(dispute)

    def event(self, type_: str, obj: dict) -> dict:
        return {"id": self.new_id("evt"), "object": "event", "type": type_,
                "api_version": "2025-01-27.acacia", "created": int(time.time()),
                "livemode": False, "data": {"object": dict(obj)}}


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for `payload`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload,
                      hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def decode_form(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's bracket notation (`a[b][0][c]=1`) to nested dicts and lists."""
    root: dict = {}
    for raw_key, value in pairs:
        parts = re.findall(r"[^\[\]]+", raw_key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK would add some 40 ms to every call.
    disable_nagle_algorithm = True
    stripe: FakeStripe

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        pairs = parse_qsl(body if method == "POST" else parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload, extra = self.stripe.handle(method, parts.path, decode_form(pairs), headers)
        delay = self.stripe.take_delay(method, parts.path)
        if delay:
            self.stripe.hold(delay)  # done at "Stripe", the answer comes late (or never)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_DELETE(self):
        self._serve("DELETE")

    def log_message(self, format, *args):  # keep test output quiet
        return
