"""Browser fixtures: the app under granian on loopback, a real RQ worker, and Debian's chromium.

The site and the worker run as separate processes against the suite's own PostgreSQL database
and Redis db (the `app` fixture migrates it; tables are emptied after each test as everywhere).
Playwright drives the system's chromium through `executable_path`: nothing is downloaded at run
time. Without a chromium binary every browser test is skipped, saying so.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests

from tests.conftest import PROJECT_ROOT

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT = {"width": 1280, "height": 800}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
    """A child in its own process group, so teardown stops it and everything it forked."""
    with log.open("w") as output:
        return subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, start_new_session=True,
                                stdout=output, stderr=subprocess.STDOUT)


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to every group at once (a warm shutdown), SIGKILL to what is left after 10 s."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


# Package scope: the worker must be gone before the rest of the suite runs, whose tests count
# and run their own jobs on the same Redis db.
@pytest.fixture(scope="package")
def live_server(app):
    """The site under granian and a worker with the beat, both real processes; yields the URL."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need chromium at {CHROMIUM} (apt-get install chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-report.txt").unlink(missing_ok=True)
    port = _free_port()
    env = dict(os.environ, APP_ENV="testing",
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=app.config["REDIS_URL"],
               RATELIMIT_STORAGE_URI=app.config["REDIS_URL"],
               # One browser logs in several people from one address within a minute.
               RATELIMIT_LOGIN="200 per minute", RATELIMIT_SIGNUP="200 per minute",
               CLICK_FLUSH_INTERVAL_S="1", PROXY_FIX_X_FOR="1")
    bin_dir = Path(sys.executable).parent
    processes = [
        _spawn([str(bin_dir / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
                "--port", str(port), "--workers", "1", "--blocking-threads", "8",
                # The browser keeps connections open; do not wait for them at the end.
                "--workers-kill-timeout", "2", "wsgi:app"], env, ARTIFACTS / "site.log"),
        _spawn([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], env,
               ARTIFACTS / "worker.log"),
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, processes[0])
        yield url
    finally:
        _stop(processes)
        # What the worker left (its registration, the scheduler's lock) must not reach the
        # next package's first test.
        connection = redis.Redis.from_url(app.config["REDIS_URL"])
        connection.flushdb()
        connection.close()


def _wait_until_serving(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the site exited; see {ARTIFACTS / 'site.log'}")
        try:
            if requests.get(f"{url}/login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the site did not answer at {url}; see {ARTIFACTS / 'site.log'}")


@pytest.fixture(scope="package")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's outcome on the item, so `new_page` can keep evidence of a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def new_page(browser, live_server, request):
    """Open a page in a fresh context (its own cookies): `new_page()`, one per person."""
    contexts = []

    def open_page(**options):
        context = browser.new_context(base_url=live_server, viewport=VIEWPORT, locale="en-US",
                                      accept_downloads=True,
                                      permissions=["clipboard-read", "clipboard-write"],
                                      **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        # Forms that move money ask first (data-confirm); a person says yes.
        page.on("dialog", lambda dialog: dialog.accept())
        return page

    yield open_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        for number, context in enumerate(contexts):
            for page in context.pages:
                stem = ARTIFACTS / f"FAILED-{request.node.name}-{number}"
                page.screenshot(path=f"{stem}.png", full_page=True)
                Path(f"{stem}.html").write_text(page.content(), encoding="utf-8")
    for context in contexts:
        context.close()
