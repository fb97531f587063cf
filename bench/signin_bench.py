"""Sign-in benchmark: bare python-ldap against knet's directory sign-in and its HTML form, on a real slapd.

Run through bench/signin. One run starts the test suite's athens directory (tests/directories.py: a
throwaway slapd with StartTLS, a service account and memberOf), creates a throwaway node (`knet init`,
SQLite) that signs its staff in against it, and measures each case for --seconds, with one thread and
with N threads. slapd and the temporary directory are removed at the end, also on failure or Ctrl+C.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from http_bench import RESULTS, ROOT, BenchError, _commit, _terminate

sys.path.insert(0, str(ROOT))  # the feature packages (auth, wiki) and tests/ are imported from the checkout

import ldap  # noqa: E402
import tomli_w  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from auth import services as auth_services  # noqa: E402
from auth.directory import EXTENSION  # noqa: E402
from auth.ldap import Directory  # noqa: E402
from auth.routes import DEVICE_COOKIE  # noqa: E402
from knet.app import create_app  # noqa: E402
from knet.cli import cli  # noqa: E402
from knet.db import db  # noqa: E402
from tests.directories import SlapdServer, athens, missing_tools  # noqa: E402
from tests.forms import csrf_token  # noqa: E402

LOCAL_USER, LOCAL_PASSWORD = "bench.local", "a local password for the benchmark"
REFERENCE = "reference: bare python-ldap"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/signin", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="seconds of sign-ins per case (default 5)")
    parser.add_argument("--threads", default="1,8",
                        help="comma-separated thread counts for the directory cases; the local account runs with 1 "
                             "only (default 1,8)")
    parser.add_argument("--output", type=Path, default=RESULTS / "signin.md",
                        help="where to write the Markdown table (default bench/results/signin.md)")
    args = parser.parse_args(argv)
    try:
        args.threads = sorted({int(n) for n in args.threads.split(",")})
    except ValueError:
        parser.error("--threads takes whole numbers separated by commas, such as 1,8")
    if args.threads[0] < 1 or args.seconds <= 0:
        parser.error("--threads must be at least 1 and --seconds more than 0")
    return args


# The cases: each is a function of the thread number giving that thread's sign-in (a callable) -----------

def bare_ldap(server: SlapdServer, password: str):
    """What any client must do against this directory: one connection with StartTLS (the node's [ldap] asks
    for it), bind as the service account, find the person, bind as them, unbind."""
    def make(_thread: int):
        def sign_in() -> None:
            conn = ldap.initialize(server.url)
            try:
                conn.set_option(ldap.OPT_PROTOCOL_VERSION, ldap.VERSION3)
                conn.set_option(ldap.OPT_X_TLS_CACERTFILE, server.ca_file)
                conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
                conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
                conn.start_tls_s()
                conn.simple_bind_s(server.service_dn, server.service_password)
                found = conn.search_s(server.base_dn, ldap.SCOPE_SUBTREE, "(uid=maria)", ["1.1"])
                conn.simple_bind_s(found[0][0], password)
            finally:
                conn.unbind_s()
        return sign_in
    return make


def knet_directory(directory: Directory, password: str):
    """Directory.authenticate, one Directory shared by every thread as in a node."""
    def make(_thread: int):
        def sign_in() -> None:
            if directory.authenticate("maria", password).username != "maria":
                raise BenchError("Directory.authenticate returned someone else")
        return sign_in
    return make


class IsolatedClient(FlaskClient):
    """Every request in a fresh app context, as under a real server (as tests/conftest.py's)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def form_sign_in(app, accounts: list[tuple[str, str]]):
    """POST /login through the test client, a client per thread, rotating over `accounts` from the thread's
    number. The CSRF token is fetched once per client; signing out is what a browser does when it forgets a
    session: the anonymous session cookie (holding that token) is put back and the known-device mark
    dropped, so every attempt is a first sign-in in that browser. (POST /sign-out would be a request of
    its own and need a new token each time: signing in starts a new session, without the old token.)"""
    cookie = app.config["SESSION_COOKIE_NAME"]

    def make(thread: int):
        client = app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        anonymous = client.get_cookie(cookie).value
        turns = itertools.count(thread)

        def sign_in() -> None:
            username, password = accounts[next(turns) % len(accounts)]
            response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
            if response.status_code != 302:
                raise BenchError(f"POST /login as {username} answered {response.status_code}, not 302: "
                                 + response.get_data(as_text=True)[:500])
            client.set_cookie(cookie, anonymous)
            client.delete_cookie(DEVICE_COOKIE)
        return sign_in
    return make


# Measuring ---------------------------------------------------------------------------------------

@dataclass
class Result:
    case: str
    threads: int
    sign_ins: int
    rate: float
    p50_ms: float
    p95_ms: float


def measure(case: str, make, threads: int, seconds: float, stop: threading.Event) -> Result:
    """Each thread signs in once unmeasured, then all start together and sign in until `seconds` are over."""
    sign_ins = [make(n) for n in range(threads)]
    latencies: list[list[float]] = [[] for _ in range(threads)]
    spans: list[tuple[float, float]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            sign_ins[n]()
            barrier.wait()
            began = now = time.perf_counter()
            while now < began + seconds and not stop.is_set():
                sign_ins[n]()
                latencies[n].append(time.perf_counter() - now)
                now = time.perf_counter()
            spans.append((began, now))
        except threading.BrokenBarrierError:
            pass
        except Exception as exc:  # noqa: BLE001: reported by the main thread
            errors.append(exc)
            barrier.abort()

    workers = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            worker.join()
    except KeyboardInterrupt:
        stop.set()  # let the threads finish their sign-in before slapd and the node go away
        for worker in workers:
            worker.join(timeout=10)
        raise
    if errors:
        raise BenchError(f"{case} with {threads} thread(s) failed: {errors[0]}")
    timings = sorted(itertools.chain.from_iterable(latencies))
    elapsed = max(end for _, end in spans) - min(start for start, _ in spans)
    return Result(case, threads, len(timings), len(timings) / elapsed, percentile(timings, 50), percentile(timings, 95))


def percentile(ordered: list[float], p: int) -> float:
    """Nearest-rank percentile in milliseconds."""
    return 1000 * ordered[max(0, -(-p * len(ordered) // 100) - 1)]


# The node ----------------------------------------------------------------------------------------

def make_node(instance: Path, server: SlapdServer):
    """`knet init` a node, give it the directory's [ldap] table and a local account (werkzeug's default hash)."""
    with contextlib.redirect_stdout(io.StringIO()):  # its "Next: create an admin" is not for us
        cli(["init", "--instance", str(instance), "--name", "Δήμος Μετρήσεων", "--url", "http://127.0.0.1:5000"],
            standalone=False)
    config = tomllib.loads((instance / "knet.toml").read_text(encoding="utf-8"))
    config["ldap"] = server.knet_settings()
    (instance / "knet.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    app = create_app(instance)
    app.test_client_class = IsolatedClient
    with app.app_context():
        user = auth_services.create_local_user(LOCAL_USER, LOCAL_PASSWORD)
        hash_method = user.password_hash.split("$", 1)[0]
        db.session.commit()
        db.session.remove()
    return app, hash_method


def close_node(app) -> None:
    with app.app_context():
        if app.extensions.get(EXTENSION) is not None:
            app.extensions[EXTENSION].close()
        db.session.remove()
        db.engine.dispose()


# Report ------------------------------------------------------------------------------------------

def table(results: list[Result]) -> str:
    reference = {r.threads: r.rate for r in results if r.case == REFERENCE}
    lines = ["| case | threads | sign-ins/s | % of reference | p50 ms | p95 ms |", "|---|---:|---:|---:|---:|---:|"]
    order = list(dict.fromkeys(r.case for r in results))
    for r in sorted(results, key=lambda r: (order.index(r.case), r.threads)):
        lines.append(f"| {r.case} | {r.threads} | {r.rate:,.0f} | {100 * r.rate / reference[r.threads]:.0f} % "
                     f"| {r.p50_ms:.1f} | {r.p95_ms:.1f} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if missing_tools():
        print(f"OpenLDAP is not installed ({', '.join(missing_tools())} missing): apt-get install slapd ldap-utils "
              "openssl.", file=sys.stderr)
        return 1
    # SIGINT too: a shell without job control starts background commands with SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    stop, server, app, directory, workdir = threading.Event(), athens(), None, None, None
    try:
        workdir = Path(tempfile.mkdtemp(prefix="knet-bench-signin-"))
        print("Starting the athens directory (slapd) …", flush=True)
        server.start()
        print(f"  up at {server.url} in {server.started_in:.1f} s", flush=True)
        app, hash_method = make_node(workdir / "instance", server)
        password = server.accounts["maria"].password
        accounts = [(a.username, a.password) for a in server.accounts.values() if not a.disabled]
        directory = Directory(app.config["KNET"]["ldap"])
        form = form_sign_in(app, accounts)
        first = form(0)
        for _ in accounts:  # each account's first sign-in creates it: done here, unmeasured and one at a time
            first()
        cases = [(REFERENCE, bare_ldap(server, password), True),
                 ("knet Directory.authenticate", knet_directory(directory, password), True),
                 ("knet POST /login, directory account", form, True),
                 (f"knet POST /login, local account ({hash_method})", form_sign_in(app, [(LOCAL_USER, LOCAL_PASSWORD)]),
                  False)]
        load_before = os.getloadavg()[0]
        results = []
        for threads in args.threads:  # the cases alternate: a change in background load hits them alike
            for case, make, threaded in cases:
                if threads == 1 or threaded:
                    print(f"Measuring {case} with {threads} thread(s) …", flush=True)
                    results.append(measure(case, make, threads, args.seconds, stop))
        report = table(results)
        api = ldap.get_option(ldap.OPT_API_INFO)
        version = f"{api['vendor_version'] // 10000}.{api['vendor_version'] // 100 % 100}.{api['vendor_version'] % 100}"
        note = (f"{args.seconds:g} s per case after one unmeasured sign-in per thread; slapd and libldap {version}, "
                f"python-ldap {ldap.__version__}, StartTLS on every new connection; SQLite; local account hashed "
                f"with {hash_method}; {os.cpu_count()} CPUs; load average before the run {load_before:.2f}; "
                f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; commit {_commit()}")
        print(f"\n{report}\n\n{note}")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(f"# Sign-in benchmark\n\n{report}\n\n{note}\n", encoding="utf-8")
        print(f"\nWritten to {args.output}")
        return 0
    except (BenchError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"\nInterrupted ({exc or 'Ctrl+C'}); cleaning up.", file=sys.stderr)
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        stop.set()
        if directory is not None:
            directory.close()
        if app is not None:
            close_node(app)
        server.stop()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
