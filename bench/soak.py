"""Soak: the site under mixed load for SOAK_SECONDS (default 300) on loopback.

    .venv/bin/python bench/soak.py          # SOAK_SECONDS=30 for a short run

Starts a Redis of its own (noeviction), a scratch PostgreSQL database with the demo network and
eight funded bench offers, the site (granian, 2 workers x 4 threads, PROXY_FIX_X_FOR=1) and
one `flask worker` (all queues, with the beat). Then SOAK_CLIENTS threads (default 8) send clicks,
postbacks and logged-in page views (demo publishers, advertiser, operator: dashboard, stats,
catalog) at about SOAK_RATE requests/s in all (default 120), first a warm-up, then the soak.
It prints throughput, p50/p99 and statuses per request type, the resident memory of each
process after warm-up and at the end, what reached the database, and `ledger check`.
Targets: no 5xx or socket errors, no process growing by more than 10 %, the ledger check OK.
The load is generated in Python (bench/soak_load.py says why); wrk is not used.
"""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import seed  # noqa: E402
from bench.clicks import free_port, stop, wait_for_port  # noqa: E402
from bench.cputime import children  # noqa: E402
from bench.postbacks import serve_command  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from bench.soak_load import EXPECTED, Plan, open_sessions, percentile, run_load  # noqa: E402

MIX = {"click": 0.6, "postback": 0.25, "page": 0.15}
PREPARED_CLICKS = 5_000
GROWTH_LIMIT = 0.10


def prepare(env: dict) -> dict:
    """Schema, the demo network, eight funded offers on a demo publisher's links, clicks an hour
    old to convert (from distinct addresses, so no fraud signal holds their conversions)."""
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import select

    from cpa_network.accounts.models import User
    from cpa_network.app import create_app
    from cpa_network.demo import DEMO_PASSWORD, load_demo
    from cpa_network.extensions import db

    app = create_app()
    secret = secrets.token_hex(24)
    with app.app_context():
        upgrade()
        context = load_demo()
        logins = [(role, email, DEMO_PASSWORD) for role, email in context.logins]
        publisher = db.session.scalar(select(User).where(
            User.email == next(e for r, e, _p in logins if r == "publisher")))
        admin = context.made["admin"]
        offer_links = seed.funded_offers(context.made["advertisers"][:8], admin, publisher,
                                         secret, "soak", 1_00)
        db.session.flush()
        records = seed.hour_old_clicks(offer_links, publisher.id, PREPARED_CLICKS, "soak")
        db.session.commit()
        plan = {"tokens": [link.token for link in offer_links],
                "click_ids": [r["id"] for r in records], "secret": secret, "goal": "order",
                "logins": logins}
        db.session.remove()
        db.engine.dispose()
    return plan


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def processes(server: subprocess.Popen, worker: subprocess.Popen) -> dict[str, int]:
    """Name: pid of every long-lived process (RQ's work-horses come and go, so are left out)."""
    found = {"granian main": server.pid}
    for number, pid in enumerate(sorted(children(server.pid)), start=1):
        found[f"granian worker {number}"] = pid
    found["rq worker (flask worker)"] = worker.pid
    return found


def wait_until_serving(port: int, timeout: float = 300) -> None:
    """granian's port opens before its workers have imported the app: wait for a page."""
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("GET", "/login")
            if connection.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            time.sleep(1)
        finally:
            connection.close()
    raise SystemExit(f"the site on port {port} did not answer within {timeout:.0f} s")


def flask(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout, check=False)


def wait_for_flush(env: dict, timeout: float = 180) -> int:
    """Wait until the worker has stored every click waiting in the stream; returns the backlog."""
    deadline = time.monotonic() + timeout
    backlog = -1
    while time.monotonic() < deadline:
        backlog = int(flask(env, "tracking", "backlog").stdout.strip() or -1)
        if backlog == 0:
            return 0
        time.sleep(2)
    return backlog


def stored_counts(env: dict) -> tuple[int, int]:
    """Clicks and conversions in the database."""
    os.environ.update(env)
    from sqlalchemy import create_engine, text

    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        clicks = conn.execute(text("SELECT count(*) FROM clicks")).scalar()
        conversions = conn.execute(text("SELECT count(*) FROM conversions")).scalar()
    engine.dispose()
    return clicks, conversions


def report_load(results, seconds: float) -> bool:
    print(f"{'type':<10}{'requests':>10}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    clean = True
    for kind in MIX:
        latencies = results.latencies.get(kind, [])
        statuses = results.statuses.get(kind, {})
        total = sum(statuses.values())
        print(f"{kind:<10}{total:>10,}{total / seconds:>9.1f}"
              f"{percentile(latencies, 0.5) * 1000:>9.1f}{percentile(latencies, 0.99) * 1000:>9.1f}"
              f"  {dict(sorted(statuses.items(), key=str))}")
        clean = clean and all(status in EXPECTED[kind] for status in statuses)
    every = [v for values in results.latencies.values() for v in values]
    total = sum(sum(s.values()) for s in results.statuses.values())
    print(f"{'all':<10}{total:>10,}{total / seconds:>9.1f}{percentile(every, 0.5) * 1000:>9.1f}"
          f"{percentile(every, 0.99) * 1000:>9.1f}")
    errors = sum(c for s in results.statuses.values() for k, c in s.items()
                 if not isinstance(k, int) or k >= 500)
    print(f"5xx and socket errors: {errors} (target 0) "
          f"{'PASS' if errors == 0 else 'FAIL'}; every answer as expected: "
          f"{'yes' if clean else 'no'}")
    return errors == 0


def report_memory(start: dict[str, int], pids: dict[str, int]) -> bool:
    print(f"{'process':<28}{'pid':>8}{'start MB':>10}{'end MB':>10}{'growth':>9}")
    good = True
    for name, pid in pids.items():
        end = rss_kb(pid)
        if end is None or name not in start:
            print(f"{name:<28}{pid:>8}  gone or new during the run  FAIL")
            good = False
            continue
        growth = (end - start[name]) / start[name]
        verdict = "PASS" if growth <= GROWTH_LIMIT else "FAIL"
        good = good and verdict == "PASS"
        print(f"{name:<28}{pid:>8}{start[name] / 1024:>10.1f}{end / 1024:>10.1f}"
              f"{growth:>+9.1%}  {verdict}")
    return good


def main() -> int:
    seconds = float(os.environ.get("SOAK_SECONDS", 300))
    clients = int(os.environ.get("SOAK_CLIENTS", 8))
    rate = float(os.environ.get("SOAK_RATE", 120))
    warmup = min(20.0, max(5.0, seconds / 10))
    if shutil.which("redis-server") is None:
        print("soak: `redis-server` is missing (Debian: apt-get install -y redis-server)")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="cpa-soak-"))
    redis_port, app_port = free_port(), free_port()
    started: list[subprocess.Popen] = []
    with scratch_database("cpa_soak") as database_url:
        env = dict(os.environ, APP_ENV="production", SECRET_KEY=secrets.token_hex(16),
                   DATABASE_URL=database_url, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                   UPLOAD_DIR=str(workdir), PROXY_FIX_X_FOR="1")
        try:
            started.append(subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--maxmemory-policy", "noeviction"],
                stdout=subprocess.DEVNULL))
            wait_for_port(redis_port)
            set_up = time.monotonic()
            plan = Plan(port=app_port, mix=MIX, **prepare(env))
            print(f"soak: set-up (demo network, {PREPARED_CLICKS} clicks to convert) "
                  f"{time.monotonic() - set_up:.0f} s")
            server = subprocess.Popen(
                serve_command("wsgi:app", app_port, workers=2, threads=4), cwd=ROOT, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            started.append(server)
            worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                                      cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            started.append(worker)
            wait_for_port(app_port)
            wait_until_serving(app_port)
            before_clicks, before_conversions = stored_counts(env)
            sessions = open_sessions(plan, clients)
            warm, _ = run_load(plan, sessions, warmup, rate, "warm")
            pids = processes(server, worker)
            start_rss = {name: rss_kb(pid) for name, pid in pids.items()}
            results, took = run_load(plan, sessions, seconds, rate, "soak")
            load = subprocess.run(["cat", "/proc/loadavg"], capture_output=True, text=True,
                                  check=False).stdout.split()[:3]
            print(f"soak: {seconds:.0f} s after a {warmup:.0f} s warm-up, {clients} clients, "
                  f"target {rate:.0f} requests/s, mix {MIX}; granian 2 workers x 4 threads, "
                  f"1 RQ worker; load average {' '.join(load)} on {os.cpu_count()} cores")
            load_ok = report_load(results, took)
            memory_ok = report_memory(start_rss, pids)
            backlog = wait_for_flush(env)
            clicks, conversions = stored_counts(env)
            answered = sum(r.statuses["click"][302] for r in (warm, results))
            accepted = warm.accepted_postbacks + results.accepted_postbacks
            print(f"clicks answered 302: {answered:,}; stored: {clicks - before_clicks:,} "
                  f"(stream backlog after the run: {backlog})")
            print(f"postbacks accepted: {accepted:,} (duplicates {results.duplicates}); "
                  f"conversions stored: {conversions - before_conversions:,}")
            stored_ok = (backlog == 0 and clicks - before_clicks == answered
                         and conversions - before_conversions == accepted)
            checked = flask(env, "ledger", "check")
            print(checked.stdout.strip())
            ledger_ok = checked.returncode == 0
            print(f"ledger check: {'PASS' if ledger_ok else 'FAIL'}; every click and "
                  f"conversion stored once: {'PASS' if stored_ok else 'FAIL'}")
            good = load_ok and memory_ok and ledger_ok and stored_ok
            print("targets met" if good else "targets NOT met")
            return 0 if good else 1
        finally:
            stop(started)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
