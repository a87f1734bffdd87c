"""Instructions per postback: the app's share of one accepted postback, counted, not timed.

    .venv/bin/python bench/postback_instructions.py [--postbacks 200] [--no-valgrind]

On a shared 2-core machine the HTTP benchmark (bench/postbacks.py) moves by +-20 % from run to
run, which hides a 10 % change in the app's code. This one counts the machine instructions the
app's process executes for `--postbacks` accepted postbacks, under valgrind's callgrind: the
same code on the same data gives the same count to within about 1 %, whatever else the machine
is doing. It prepares the database of bench/postbacks.py, then, in a child process, sends
postbacks straight to the WSGI app (the `/postback` lane a server's call takes, minus the server
and the socket), one after another, with instrumentation switched on only around the measured
ones. It also reports the CPU the database's backend used for them (from /proc: a time, so it
moves with the machine). Needs valgrind (Debian: apt-get install -y valgrind); `--no-valgrind`
reports the app's CPU time instead.
"""

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARM_UP = 50  # postbacks before the measured ones: imports, compiled statements, offer cache


def child(clicks_file: str, secret: str, count: int, counted: bool) -> None:
    """In the process valgrind watches: warm up, then `count` postbacks, counted; prints one
    line `measured <app cpu s> <backend cpu s>`."""
    from sqlalchemy import text

    from bench.cputime import cpu_seconds
    from cpa_network.extensions import db
    from offers import postback_direct
    from wsgi import app

    clicks = Path(clicks_file).read_text().split()

    def postback(n: int) -> None:
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": "/postback", "REMOTE_ADDR": "127.0.0.1",
            "QUERY_STRING": f"click_id={clicks[n % len(clicks)]}&goal=order&txid=instr-{n}"
                            f"&secret={secret}",
            "SERVER_NAME": "bench", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
        status = []
        body = b"".join(app(environ, lambda line, _headers: status.append(line)))
        if not status[0].startswith("200") or b'"ok"' not in body:
            raise SystemExit(f"postback {n} was not accepted: {status[0]} {body!r}")

    for n in range(WARM_UP):
        postback(n)
    with app.app_context():
        session_backend = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.commit()  # the pool hands the postbacks this same connection
        # and a plain postback reads and writes on the autocommit connection the direct lane
        # keeps between postbacks (one, as they come one at a time)
        with postback_direct._connection(app) as connection:
            direct_backend = connection.scalar(text("SELECT pg_backend_pid()"))
    backends = (session_backend, direct_backend)
    switch = ["callgrind_control", "--instr"]
    if counted:
        subprocess.run([*switch, "on", str(os.getpid())], check=True, capture_output=True)
    app_before, backend_before = time.process_time(), sum(map(cpu_seconds, backends))
    for n in range(WARM_UP, WARM_UP + count):
        postback(n)
    app_used = time.process_time() - app_before
    backend_used = sum(map(cpu_seconds, backends)) - backend_before
    if counted:
        subprocess.run([*switch, "off", str(os.getpid())], check=True, capture_output=True)
    print(f"measured {app_used} {backend_used}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postbacks", type=int, default=200)
    parser.add_argument("--no-valgrind", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("CLICKS", "SECRET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    counted = not args.no_valgrind
    if args.child:
        child(*args.child, args.postbacks, counted)
        return 0
    needed = ["redis-server"] + (["valgrind", "callgrind_control"] if counted else [])
    for binary in needed:
        if shutil.which(binary) is None:
            print(f"bench: `{binary}` is missing (Debian: apt-get install -y "
                  f"{'valgrind' if 'grind' in binary else binary})")
            return 2
    from bench.postbacks import check, prepared

    with prepared("cpa_bench_instr", 8) as (env, clicks_file, secret, _started), \
            tempfile.TemporaryDirectory() as scratch:
        out_file = Path(scratch) / "callgrind.out"
        command = [sys.executable, __file__, "--postbacks", str(args.postbacks),
                   "--child", str(clicks_file), secret]
        if counted:
            command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                       f"--callgrind-out-file={out_file}", *command]
        else:
            command.append("--no-valgrind")
        before, _twice, _ok = check(env)
        result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
        measured = re.search(r"^measured (\S+) (\S+)$", result.stdout, re.M)
        if result.returncode != 0 or measured is None:
            print(result.stdout[-2000:], result.stderr[-3000:])
            return 1
        stored, twice, ledger_ok = check(env)
        app_seconds, backend_seconds = (float(v) for v in measured.groups())
        count = args.postbacks
        print(f"postback instructions: {count} accepted postbacks, one at a time, through the "
              "WSGI app in-process (PostgreSQL, Redis)")
        if counted:
            totals = re.search(r"^totals: (\d+)", out_file.read_text(), re.M)
            print(f"  app instructions per postback: {int(totals.group(1)) / count:,.0f} "
                  "(callgrind; repeatable to about 1 %)")
        else:
            print(f"  app CPU per postback: {app_seconds / count * 1000:.2f} ms")
        print(f"  database backend CPU per postback: {backend_seconds / count * 1000:.2f} ms "
              "(/proc; a time, it moves with the machine)")
        print(f"  conversions stored: {stored - before:,} (sent {count + WARM_UP:,}); txids "
              f"stored twice: {twice}; ledger check: {'OK' if ledger_ok else 'FAILED'}")
        return 0 if ledger_ok and twice == 0 and stored - before == count + WARM_UP else 1


if __name__ == "__main__":
    sys.exit(main())
