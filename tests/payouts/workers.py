"""Real worker processes for payout tests: started in the background, watched, killed."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import PROJECT_ROOT


def start_worker(app, *extra_args: str, burst: bool = True) -> subprocess.Popen:
    """`flask --app wsgi worker [--burst]` in the background, on the suite's database and
    Redis (a long-running one without the beat, so it only does what the test queues)."""
    env = dict(os.environ, APP_ENV="testing", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=app.config["REDIS_URL"])
    mode = ["--burst"] if burst else ["--no-beat"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", *mode, *extra_args],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)  # its own process group: it and its work-horse die together
    STARTED.append(worker)
    return worker


# Every worker a test started; `kill_leftovers` (autouse, after each test) ends the live ones.
STARTED: list[subprocess.Popen] = []


def kill_leftovers() -> None:
    """SIGKILL whatever a test's workers left running (a test that failed before `finish`), so
    no stray worker takes the next test's jobs from the shared queues."""
    while STARTED:
        worker = STARTED.pop()
        if worker.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.communicate(timeout=10)


def finish(worker: subprocess.Popen, timeout: float = 60) -> str:
    """Wait for a worker to exit (a long-running one is asked to, with SIGTERM: RQ's warm
    shutdown finishes the current job first); its output. It must exit cleanly."""
    if "--burst" not in worker.args:
        worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=timeout)
    assert worker.returncode == 0, output
    return output


def children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def kill_work_horse(worker: subprocess.Popen, timeout: float = 20) -> int:
    """SIGKILL the job process RQ forked (the work-horse), as the OOM killer would."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        horses = children(worker.pid)
        if horses:
            os.kill(horses[0], signal.SIGKILL)
            return horses[0]
        time.sleep(0.05)
    raise AssertionError("the worker forked no work-horse")


def wait_until(condition, timeout: float = 20, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
