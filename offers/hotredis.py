"""A minimal Redis client for the click path: one socket per process and thread, RESP2.

redis-py's pool, retry and encoder layers cost more per call than the round trip itself (about
105 µs against 31 µs for an XADD on this machine), and the click path makes exactly one round
trip per click. This client packs RESP by hand, reads the reply from a buffered socket, and on
any error closes the socket and raises redis-py's own exceptions, so callers handle one family
of errors. Plain `redis://` URLs only; anything else uses redis-py (offers.stream).
"""

import contextlib
import os
import socket
import threading
from urllib.parse import unquote, urlsplit

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError


def supports(url: str) -> bool:
    return urlsplit(url).scheme == "redis"


def pack(*parts) -> bytes:
    """A RESP2 command."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        if not isinstance(part, bytes):
            part = str(part).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


def _read(reader):
    line = reader.readline()
    if not line.endswith(b"\r\n"):
        raise RedisConnectionError("Redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else reader.read(size + 2)[:-2]
    if kind == b"*":
        size = int(rest)
        return None if size < 0 else [_read(reader) for _ in range(size)]
    if kind == b"-":
        raise ResponseError(rest.decode(errors="replace"))
    raise RedisConnectionError(f"unexpected Redis reply {line[:20]!r}")


class HotRedis:
    def __init__(self, url: str, connect_timeout: float = 0.25, timeout: float = 1.0):
        parts = urlsplit(url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.password = unquote(parts.password) if parts.password else None
        self.username = unquote(parts.username) if parts.username else None
        self.db = int(parts.path.strip("/") or 0)
        self.connect_timeout, self.timeout = connect_timeout, timeout
        self._local = threading.local()

    def _connect(self):
        sock = socket.create_connection(self.address, timeout=self.connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.timeout)
        reader = sock.makefile("rb")
        setup = []
        if self.password:
            setup.append(pack(b"AUTH", *([self.username] if self.username else []),
                              self.password))
        if self.db:
            setup.append(pack(b"SELECT", self.db))
        if setup:
            sock.sendall(b"".join(setup))
            for _ in setup:
                _read(reader)
        self._local.conn = (os.getpid(), sock, reader)
        return sock, reader

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn[2].close()
            conn[1].close()

    def __del__(self):  # a discarded app (tests) must not leave its socket to the GC
        with contextlib.suppress(Exception):  # nothing to do during interpreter teardown
            self.close()

    def call_many(self, commands: list[tuple]) -> list:
        """Send the commands in one write, read every reply; an error reply is returned as a
        ResponseError value (like redis-py's pipeline with raise_on_error=False)."""
        conn = getattr(self._local, "conn", None)
        try:
            if conn is None or conn[0] != os.getpid():  # never share a socket across fork()
                sock, reader = self._connect()
            else:
                _pid, sock, reader = conn
            sock.sendall(b"".join(pack(*command) for command in commands))
            replies = []
            for _ in commands:
                try:
                    replies.append(_read(reader))
                except ResponseError as error:
                    replies.append(error)
            return replies
        except TimeoutError as error:
            self.close()
            raise RedisTimeoutError(str(error)) from error
        except (OSError, ValueError) as error:
            self.close()
            raise RedisConnectionError(str(error)) from error
        except RedisConnectionError:
            self.close()
            raise
