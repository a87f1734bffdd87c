"""CPU seconds used by groups of processes on this machine (Linux /proc), for benchmarks that
report where the time of one request goes: the app's workers, PostgreSQL's backends, Redis."""

import contextlib
import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    """The direct children of a process (a server's workers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def database_backends(conn) -> list[int]:
    """The server processes of every connection to the current database (a DB-API connection
    to the same local server)."""
    cursor = conn.cursor()
    cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                   "AND pid <> pg_backend_pid()")
    return [row[0] for row in cursor.fetchall()]


def total(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


class Meter:
    """CPU used while the block runs by the app's workers (children of `app_pid`), the
    database's backends, the Redis server and this process's children (wrk)."""

    def __init__(self, database_url: str, app_pid: int, redis_pid: int):
        from bench.scratch import psycopg_dsn

        self.dsn = psycopg_dsn(database_url)
        self.app_pid, self.redis_pid = app_pid, redis_pid

    def _groups(self) -> dict[str, dict[int, float]]:
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            backends = database_backends(conn)
        pids = {"app": [*children(self.app_pid), self.app_pid], "PostgreSQL": backends,
                "Redis": [self.redis_pid]}
        return {name: {pid: cpu_seconds(pid) for pid in group} for name, group in pids.items()}

    def __enter__(self):
        self.before = self._groups()
        self.children_before = os.times().children_user + os.times().children_system
        return self

    def __exit__(self, *_exc):
        after = self._groups()
        self.used = {name: sum(value - self.before[name].get(pid, 0.0)
                               for pid, value in group.items())
                     for name, group in after.items()}
        self.used["wrk"] = (os.times().children_user + os.times().children_system
                            - self.children_before)
        return False

    def per(self, count: int) -> str:
        """'app 3.10 ms, PostgreSQL 1.20 ms, ...' per one of `count` requests."""
        count = max(count, 1)
        parts = [f"{name} {seconds / count * 1000:.2f} ms" for name, seconds in self.used.items()]
        return ", ".join(parts) + f"; total {sum(self.used.values()) / count * 1000:.2f} ms"
