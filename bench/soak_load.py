"""The soak's load generator: threads with keep-alive `http.client` connections and cookie
sessions, sending clicks, postbacks and logged-in page views in a fixed mix at a paced rate.

Python rather than wrk: the soak needs each request type's own latencies and status counts
and per-user login sessions with CSRF, which wrk's single latency histogram cannot give.
"""

import http.client
import random
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PAGES = {"publisher": ("/dashboard", "/stats", "/catalog"),
         "advertiser": ("/dashboard", "/advertiser/stats"),
         "operator": ("/dashboard", "/admin/stats")}
EXPECTED = {"click": (302,), "postback": (200, 202), "page": (200,)}


@dataclass
class Plan:
    """What the load sends: link tokens to click, prepared clicks to convert, users to log in."""

    port: int
    tokens: list[str]
    click_ids: list[str]
    secret: str
    goal: str
    logins: list[tuple[str, str, str]]  # role, email, password
    mix: dict[str, float]  # request type: share of requests


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    accepted_postbacks: int = 0
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def merge(self, other: "Results") -> None:
        with self.lock:
            for kind, values in other.latencies.items():
                self.latencies[kind].extend(values)
            for kind, counts in other.statuses.items():
                self.statuses[kind].update(counts)
            self.accepted_postbacks += other.accepted_postbacks
            self.duplicates += other.duplicates


class Client:
    """One keep-alive connection with its own cookies and X-Forwarded-For."""

    def __init__(self, port: int, address: str):
        self.port, self.address = port, address
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: str | None = None,
                address: str | None = None) -> tuple[int, bytes]:
        headers = {"X-Forwarded-For": address or self.address, "User-Agent": BROWSER}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # reconnects on the next request
            raise
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, data

    def login(self, email: str, password: str) -> None:
        _status, page = self.request("GET", "/login")
        token = CSRF_RE.search(page.decode())[1]
        status, _body = self.request("POST", "/login", urlencode(
            {"email": email, "password": password, "csrf_token": token}))
        if status != 302:
            raise RuntimeError(f"login as {email} answered {status}")


BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _worker(plan: Plan, number: int, clients: int, rate: float, deadline: float,
            sessions: list, results: Results, run: str) -> None:
    rng = random.Random(number * 7919 + len(run))
    client = sessions[number]
    role = client.role
    local = Results()
    kinds, weights = list(plan.mix), list(plan.mix.values())
    interval = clients / rate if rate > 0 else 0.0
    next_at = time.monotonic() + rng.random() * interval
    sent = 0
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        if next_at > now:
            time.sleep(min(next_at - now, deadline - now))
            continue
        next_at += interval
        kind = rng.choices(kinds, weights)[0]
        sent += 1
        if kind == "click":
            # A header value only (the app trusts one proxy hop): no traffic leaves loopback.
            address = ".".join(str(rng.randint(1, 254)) for _ in range(4))
            path = f"/c/{rng.choice(plan.tokens)}?sub1=soak{rng.randint(1, 5)}"
            method, body = "GET", None
        elif kind == "postback":
            address = None
            path, method, body = "/postback?" + urlencode({
                "click_id": rng.choice(plan.click_ids), "goal": plan.goal,
                "txid": f"{run}-{number}-{sent}", "secret": plan.secret}), "GET", None
        else:
            address = None
            path, method, body = rng.choice(PAGES[role]), "GET", None
        started = time.perf_counter()
        try:
            status, data = client.request(method, path, body, address=address)
        except (OSError, http.client.HTTPException):
            local.statuses[kind]["socket error"] += 1
            continue
        local.latencies[kind].append(time.perf_counter() - started)
        local.statuses[kind][status] += 1
        if kind == "postback" and status in (200, 202):
            if b'"duplicate"' in data:
                local.duplicates += 1
            else:
                local.accepted_postbacks += 1
    results.merge(local)


def open_sessions(plan: Plan, clients: int) -> list[Client]:
    """One client per thread, each logged in as one of the plan's users (round robin)."""
    sessions = []
    for number in range(clients):
        role, email, password = plan.logins[number % len(plan.logins)]
        client = Client(plan.port, f"203.0.113.{number + 1}")
        client.login(email, password)
        client.role = role
        sessions.append(client)
    return sessions


def run_load(plan: Plan, sessions: list[Client], seconds: float, rate: float,
             run: str) -> tuple[Results, float]:
    """Send the mix from every session for `seconds`; returns the results and the time taken."""
    results = Results()
    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=_worker, args=(plan, n, len(sessions), rate, deadline,
                                                      sessions, results, run), daemon=True)
               for n in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    return results, time.monotonic() - started


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
