"""Real processes for fault and scale-out tests: app nodes (granian), workers with the beat, a
private redis-server. Each runs in its own process group and is killed with it, even if a test
fails."""

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(app, **extra) -> dict[str, str]:
    """The environment of a process serving the suite's database and Redis (plus `extra`)."""
    env = dict(os.environ, APP_ENV="testing", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=app.config["REDIS_URL"])
    env.update({key: str(value) for key, value in extra.items()})
    return env


class Processes:
    """Starts processes (each its own session, output to a file) and kills them all at the end."""

    def __init__(self):
        self.started: list[tuple[subprocess.Popen, Path]] = []
        self.logs = Path(tempfile.mkdtemp(prefix="cpa-processes-"))

    def __enter__(self) -> "Processes":
        return self

    def __exit__(self, *_exc) -> None:
        self.stop_all()

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None
              ) -> subprocess.Popen:
        log = self.logs / f"{name}-{len(self.started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append((process, log))
        return process

    def output(self, process: subprocess.Popen) -> str:
        for started, log in self.started:
            if started is process:
                return log.read_text(errors="replace")
        return ""

    def node(self, env: dict[str, str], workers: int = 1, threads: int = 4) -> str:
        """An app node as production runs it (granian, README "Production") on a free loopback
        port; its base URL once it answers."""
        port = free_port()
        process = self.start("node", [
            sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(workers),
            "--blocking-threads", str(threads), "--host", "127.0.0.1", "--port", str(port),
            "--workers-kill-timeout", "2", "wsgi:app"], env)
        wait_for_http(port, process, self)
        return f"http://127.0.0.1:{port}"

    def worker(self, env: dict[str, str], *args: str, app_module: str = "wsgi"
               ) -> subprocess.Popen:
        """`flask worker` (with the beat unless told otherwise), in the background."""
        return self.start("worker", [sys.executable, "-m", "flask", "--app", app_module,
                                     "worker", *args], env)

    def redis_server(self, port: int, data_dir: str) -> subprocess.Popen:
        """A private, durable Redis (AOF fsynced on every write, as the README asks of the
        click Redis) on `port`: stopping it never touches the shared one."""
        binary = redis_binary()
        process = self.start("redis", [
            binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", data_dir, "--save", "",
            "--appendonly", "yes", "--appendfsync", "always"])
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                return process
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not start: {self.output(process)}")
            time.sleep(0.05)

    def stop(self, process: subprocess.Popen, sig: int = signal.SIGTERM,
             timeout: float = 10) -> None:
        """Signal the process group; SIGKILL it if it has not exited within `timeout`."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # Children (granian's workers, RQ's work-horse) may outlive their parent: the group goes.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for process, _log in reversed(self.started):
            self.stop(process, timeout=5)


def redis_binary() -> str | None:
    import shutil

    return shutil.which("redis-server")


def wait_for_http(port: int, process: subprocess.Popen, processes: Processes,
                  timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the server did not start: {processes.output(process)}")
        time.sleep(0.1)


class Visitor:
    """One keep-alive HTTP/1.1 connection to a node, spoken over a plain socket (http.client
    costs the client more CPU than the click costs the server); never follows redirects."""

    def __init__(self, base_url: str, timeout: float = 10):
        host, port = base_url.removeprefix("http://").split(":")
        self.address, self.timeout = (host, int(port)), timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.address[0]}:{self.address[1]}",
                 *(f"{name}: {value}" for name, value in (headers or {}).items())]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        for attempt in (1, 2):
            if self.sock is None:
                self.sock = socket.create_connection(self.address, timeout=self.timeout)
                self.buffer = b""
            try:
                self.sock.sendall(request)
                return self._response()
            except (ConnectionError, EOFError):
                # The server closed an idle keep-alive connection: a browser reconnects too.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _read_more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the connection")
        self.buffer += chunk

    def _response(self) -> tuple[int, dict, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._read_more()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().title()] = value.strip()
        if headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise AssertionError("chunked responses are not expected here")
        length = int(headers.get("Content-Length", "0"))
        while len(self.buffer) < length:
            self._read_more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if headers.get("Connection", "").lower() == "close":
            self.close()
        return int(status_line.split()[1]), headers, body

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
