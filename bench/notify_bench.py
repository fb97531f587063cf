"""Notifications benchmark: what telling people costs when a question is asked, and what the unread count in
every page's header costs, each against a reference measured in the same run.

Run through bench/notify. One run creates a throwaway node (`knet init`, SQLite unless --database says
otherwise) with people who follow a tag, then measures:

- asking a question nobody follows (the reference: everything `ask` does but telling people), and asking one in
  a tag that N people follow (each is told in the same transaction), for each N of --followers;
- the header's unread count for someone with --unread unread notifications, against `SELECT 1` on the same
  connection (the least a query can cost);
- GET /questions for a signed-in person with no notifications, and with --unread of them.

The temporary directory is removed at the end, also on failure or Ctrl+C.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from http_bench import RESULTS, ROOT, _commit

sys.path.insert(0, str(ROOT))  # the feature packages and tests/ are imported from the checkout

from sqlalchemy import insert, select, text  # noqa: E402

from auth import notifications  # noqa: E402
from auth import services as auth_services  # noqa: E402
from auth.models import Notification, User  # noqa: E402
from knet.app import create_app  # noqa: E402
from knet.cli import cli  # noqa: E402
from knet.db import db  # noqa: E402
from knet.render_cache import EXTENSION as RENDER_CACHE  # noqa: E402
from qa import services, tags  # noqa: E402
from qa.models import tag_follows  # noqa: E402
from qa.services import QuestionInput  # noqa: E402
from tests.forms import csrf_token  # noqa: E402

PASSWORD = "a password for the benchmark"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/notify", description=__doc__.splitlines()[0])
    parser.add_argument("--followers", default="100,1000,5000",
                        help="comma-separated numbers of people following the tag (default 100,1000,5000)")
    parser.add_argument("--unread", type=int, default=10_000, help="unread notifications of one person (default 10000)")
    parser.add_argument("--rounds", type=int, default=15, help="measurements per case (default 15)")
    parser.add_argument("--database", default="", help="a database URL (default: SQLite in the throwaway node)")
    parser.add_argument("--output", type=Path, default=RESULTS / "notify.md",
                        help="where to write the Markdown table (default bench/results/notify.md)")
    args = parser.parse_args(argv)
    try:
        args.followers = sorted({int(n) for n in args.followers.split(",")})
    except ValueError:
        parser.error("--followers takes whole numbers separated by commas, such as 100,1000")
    if args.followers[0] < 1 or args.rounds < 3 or args.unread < 1:
        parser.error("--followers and --unread must be at least 1, --rounds at least 3")
    return args


def measure(action: Callable[[], None], rounds: int) -> list[float]:
    """Seconds taken by each of `rounds` runs of the action, after one run to warm up."""
    action()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def row(case: str, times: list[float], reference: float | None, per: str = "") -> list[str]:
    median = statistics.median(times)
    p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
    ratio = f"{median / reference:.1f}×" if reference else "1.0× (reference)"
    return [case, f"{median * 1000:.2f}", f"{p95 * 1000:.2f}", ratio, per]


def people(count: int, prefix: str) -> list[int]:
    """Make `count` accounts quickly (one INSERT), returning their ids."""
    db.session.execute(insert(User), [{"username": f"{prefix}{n}", "display_name": f"Υπάλληλος {n}",
                                       "password_hash": None, "granted_roles": "", "source": "local"}
                                      for n in range(count)])
    db.session.commit()
    return list(db.session.scalars(select(User.id).where(User.username.like(f"{prefix}%"))))


def run(args: argparse.Namespace, instance: Path) -> list[list[str]]:
    init = ["init", "--instance", str(instance), "--name", "Δήμος Μετρήσεων", "--url", "http://127.0.0.1:5999"]
    if args.database:
        init += ["--database", args.database]
    cli(init, standalone=False)
    app = create_app(instance)
    rows: list[list[str]] = []
    with app.app_context():
        asker = auth_services.create_local_user("asker", PASSWORD, role="editor")
        db.session.commit()
        asked = iter(range(10**9))

        def ask(tag: str) -> Callable[[], None]:
            def once() -> None:
                services.ask(asker, QuestionInput(title=f"Ερώτηση μέτρησης αριθμός {next(asked)}",
                                                  body="Πώς γίνεται;", tags=[tag]))
                db.session.commit()
            return once

        alone = measure(ask("κανείς-δεν-ακολουθεί"), args.rounds)
        reference = statistics.median(alone)
        rows.append(row("ask, nobody to tell", alone, None))
        for count in args.followers:
            tag = tags.named(f"θέμα-{count}")
            db.session.commit()
            db.session.execute(insert(tag_follows), [{"user_id": uid, "tag_id": tag.id}
                                                     for uid in people(count, f"f{count}-")])
            db.session.commit()
            times = measure(ask(tag.name), args.rounds)
            per = f"{statistics.median(times) / count * 1e6:.1f} µs per person told"
            rows.append(row(f"ask, {count:,} follow the tag", times, reference, per))

        reader = auth_services.create_local_user("reader", PASSWORD, role="reader")
        quiet = auth_services.create_local_user("quiet", PASSWORD, role="reader")
        db.session.commit()
        db.session.execute(insert(Notification), [{"user_id": reader.id, "kind": "qa.answer", "actor_id": asker.id,
                                                   "subject": f"Ερώτηση {n}", "url": "/questions/1"}
                                                  for n in range(args.unread)])
        db.session.commit()
        select_one = measure(lambda: db.session.execute(text("SELECT 1")).scalar(), args.rounds * 20)
        rows.append(row("SELECT 1", select_one, None))
        count_times = measure(lambda: notifications.unread_count(reader), args.rounds * 20)
        assert notifications.unread_count(reader) == args.unread
        rows.append(row(f"unread count, {args.unread:,} unread", count_times, statistics.median(select_one)))
        db.session.remove()

    def signed_in(username: str):
        client = app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.status_code
        return client

    def page(client) -> Callable[[], None]:
        def once() -> None:
            app.extensions[RENDER_CACHE].clear()  # every view renders afresh, as after any change
            assert client.get("/questions").status_code == 200
        return once

    plain = measure(page(signed_in("quiet")), args.rounds)
    rows.append(row("GET /questions, no notifications", plain, None))
    busy = measure(page(signed_in("reader")), args.rounds)
    rows.append(row(f"GET /questions, {args.unread:,} unread", busy, statistics.median(plain)))
    return rows


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    instance = Path(tempfile.mkdtemp(prefix="knet-bench-notify-"))
    try:
        rows = run(args, instance / "node")
    except KeyboardInterrupt:
        return 130
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    header = ["case", "median ms", "p95 ms", "against its reference", "note"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = (f"# Notifications benchmark\n\n{stamp}, commit {_commit()}, database "
              f"{args.database or 'SQLite'}, {args.rounds} rounds per case.\n\n" + "\n".join(lines) + "\n")
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
