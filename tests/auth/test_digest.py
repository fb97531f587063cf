"""E-mail digests of unread notifications, received by a real SMTP server (tests/mailserver.py):
who gets one and when, what it says and links to, and that a failure loses nothing and sends nothing twice."""
from __future__ import annotations

import logging
import tomllib
from datetime import timedelta

import pytest
import tomli_w
from flask_babel import force_locale, ngettext
from sqlalchemy import func, select

from auth import digest, notifications
from auth import services as auth_services
from auth.models import Notification, User
from knet import jobs
from knet.db import as_utc, db, utcnow
from knet.jobs import Job
from knet.mail import MailError
from tests.conftest import PASSWORD, running_node
from tests.mailserver import MailServer

NODE = "Δήμος Δοκιμών"
BASE = "http://127.0.0.1:5000"
ANSWERED = "%(actor)s answered your question “%(subject)s”"


def with_mail(instance, settings: dict) -> None:
    """Add a [mail] table to a node's knet.toml, as its IT officer would."""
    config = tomllib.loads((instance / "knet.toml").read_text(encoding="utf-8"))
    config["mail"] = settings
    (instance / "knet.toml").write_text(tomli_w.dumps(config), encoding="utf-8")


@pytest.fixture
def smtp():
    server = MailServer(refuse=("refused@example.gr",)).start()
    yield server
    server.stop()


@pytest.fixture
def node(instance, smtp):
    """A node that e-mails digests through the test server."""
    with_mail(instance, smtp.knet_settings())
    with running_node(instance) as app:
        notifications.register_kind(app, "test.answer", ANSWERED)
        yield app


def person(username: str, email: str | None = None, digest_choice: str = "daily", name: str = "") -> User:
    user = auth_services.create_local_user(username, PASSWORD, email=email, display_name=name)
    user.digest = digest_choice
    db.session.commit()
    return user


@pytest.fixture
def helper(node):
    return person("eleni", "eleni@example.gr", name="Ελένη Νικολάου")


def tell(recipients, actor, subject="Πώς γίνεται η απευθείας ανάθεση;", url="/questions/1#answer-1") -> None:
    notifications.notify(recipients, "test.answer", actor=actor, subject=subject, url=url)
    db.session.commit()


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def unsent(user: User) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.emailed_at.is_(None))) or 0


def recipients(smtp: MailServer) -> list[str]:
    return [message["To"].addresses[0].addr_spec for message in smtp.received]


def test_the_digest_lists_each_unread_notification_with_its_link(node, smtp, helper):
    maria = person("maria", "maria@example.gr", name="Μαρία Παπαδάκη")
    tell([maria], helper, subject="Πώς γίνεται η απευθείας ανάθεση;", url="/questions/1#answer-1")
    tell([maria], helper, subject="Τι ισχύει για τις <script>άδειες</script>;", url="/questions/2")

    assert digest.run_digests() == 1

    [received] = smtp.received
    with force_locale("el"):
        expected_subject = ngettext("%(num)d new notification on %(node)s", "%(num)d new notifications on %(node)s",
                                    2, node=NODE)
    assert received["Subject"] == expected_subject and NODE in received["Subject"]
    assert received["To"].addresses[0].display_name == "Μαρία Παπαδάκη"
    assert received["To"].addresses[0].addr_spec == "maria@example.gr"
    text = received.get_body(("plain",)).get_content()
    assert "Ελένη Νικολάου answered your question “Πώς γίνεται η απευθείας ανάθεση;”" in text
    # Each link opens the notification (marking it read) and leads on to what happened.
    first, second = sorted(n.id for n in db.session.scalars(select(Notification).where(Notification.user_id == maria.id)))
    assert f"{BASE}/notifications/{first}" in text and f"{BASE}/notifications/{second}" in text
    assert f"{BASE}/notifications#digest" in text
    # The newest first, as on the notifications page.
    assert text.index(f"/notifications/{second}") < text.index(f"/notifications/{first}")
    page = received.get_body(("html",)).get_content()
    assert '<html lang="el">' in page
    assert (f'<a href="{BASE}/notifications/{first}">Ελένη Νικολάου answered your question '
            "“Πώς γίνεται η απευθείας ανάθεση;”</a>") in page
    assert "&lt;script&gt;άδειες&lt;/script&gt;" in page and "<script>" not in page
    assert f'<a href="{BASE}/notifications#digest">' in page

    maria = fresh(maria)
    assert unsent(maria) == 0 and maria.last_digest_at is not None
    assert notifications.unread_count(maria) == 2  # e-mailed is not read


def test_a_second_run_sends_nothing_already_sent(node, smtp, helper):
    maria = person("maria", "maria@example.gr")
    tell([maria], helper)
    start = utcnow()
    assert digest.run_digests(start) == 1
    assert digest.run_digests(start + timedelta(hours=1)) == 0
    # A day later she is due again, but nothing new has happened.
    assert digest.run_digests(start + timedelta(days=1, minutes=1)) == 0
    assert len(smtp.received) == 1


def test_daily_weekly_and_never(node, smtp, helper):
    daily = person("daily", "daily@example.gr", "daily")
    weekly = person("weekly", "weekly@example.gr", "weekly")
    never = person("never", "never@example.gr", "off")
    tell([daily, weekly, never], helper)
    start = utcnow()
    assert digest.run_digests(start) == 2
    assert recipients(smtp) == ["daily@example.gr", "weekly@example.gr"]

    tell([daily, weekly, never], helper, subject="Δεύτερη ερώτηση")
    assert digest.run_digests(start + timedelta(hours=23)) == 0
    assert digest.run_digests(start + timedelta(days=1)) == 1
    assert recipients(smtp)[2:] == ["daily@example.gr"]
    assert "Δεύτερη ερώτηση" in smtp.received[2].get_body(("plain",)).get_content()

    assert digest.run_digests(start + timedelta(days=6, hours=23)) == 0
    assert digest.run_digests(start + timedelta(days=7)) == 1
    assert recipients(smtp)[3:] == ["weekly@example.gr"]
    weekly_text = smtp.received[3].get_body(("plain",)).get_content()
    assert "Δεύτερη ερώτηση" in weekly_text and "απευθείας ανάθεση" not in weekly_text
    assert unsent(fresh(never)) == 2


def test_nothing_for_people_without_an_address_or_news(node, smtp, helper):
    no_address = person("no_address")
    person("nothing_new", "nothing@example.gr")
    former = person("former", "former@example.gr")
    reader = person("reader", "reader@example.gr")
    tell([no_address, former, reader], helper)
    former.active = False
    notifications.mark_all_read(reader)
    db.session.commit()

    assert digest.run_digests() == 0
    assert smtp.received == []
    assert fresh(no_address).last_digest_at is None and fresh(reader).last_digest_at is None


def test_an_unreachable_server_loses_nothing_and_the_next_run_sends_once(node, smtp, helper, caplog):
    maria = person("maria", "maria@example.gr")
    tell([maria], helper)
    smtp.stop()
    with pytest.raises(MailError, match=f"The mail server 127.0.0.1:{smtp.port} could not be reached"):
        digest.run_digests()
    db.session.rollback()

    # The worker's run logs a warning and leaves everything for the next run.
    jobs.schedule_recurring()
    with caplog.at_level(logging.WARNING, logger="auth.digest"):
        jobs.run_pending()
    assert "No e-mail digests were sent this time" in caplog.text and "could not be reached" in caplog.text
    states = db.session.scalars(select(Job.state).where(Job.kind == digest.DIGEST_JOB).order_by(Job.id)).all()
    assert states == [jobs.DONE, jobs.PENDING]  # the next run is queued
    assert unsent(fresh(maria)) == 1 and fresh(maria).last_digest_at is None

    smtp.start()
    assert digest.run_digests() == 1
    assert digest.run_digests() == 0
    assert recipients(smtp) == ["maria@example.gr"]


def test_a_refused_recipient_does_not_stop_the_others(node, smtp, helper, caplog):
    refused = person("refused", "refused@example.gr")
    maria = person("maria", "maria@example.gr")
    tell([refused, maria], helper)
    with caplog.at_level(logging.WARNING, logger="auth.digest"):
        assert digest.run_digests() == 1
    assert "No digest for refused: The mail server refused the recipient refused@example.gr" in caplog.text
    assert recipients(smtp) == ["maria@example.gr"]
    assert unsent(fresh(refused)) == 1 and fresh(refused).last_digest_at is None
    assert unsent(fresh(maria)) == 0


def test_a_long_list_links_to_the_rest(node, smtp, helper):
    maria = person("maria", "maria@example.gr")
    for number in range(digest.MAX_LISTED + 2):
        tell([maria], helper, subject=f"Ερώτηση {number}", url=f"/questions/{number}")
    assert digest.run_digests() == 1
    text = smtp.received[0].get_body(("plain",)).get_content()
    assert text.count(f"{BASE}/notifications/") == digest.MAX_LISTED
    with force_locale("el"):  # the node's language
        more = ngettext("…and %(num)d more:", "…and %(num)d more:", 2)
    assert "Ερώτηση 0\n" not in text and f"{more} {BASE}/notifications\n" in text
    assert unsent(fresh(maria)) == 0


def test_read_notifications_are_forgotten_after_a_while_unread_ones_never(node, smtp, helper):
    maria = person("maria", "maria@example.gr", "off")
    tell([maria], helper, subject="παλιά αναγνωσμένη")
    tell([maria], helper, subject="παλιά αδιάβαστη")
    tell([maria], helper, subject="πρόσφατη αναγνωσμένη")
    old_read, old_unread, recent_read = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    long_ago = utcnow() - notifications.KEEP_READ - timedelta(days=1)
    old_read.created_at, old_read.read_at = long_ago, long_ago + timedelta(hours=1)
    old_unread.created_at = long_ago
    recent_read.read_at = utcnow()
    db.session.commit()

    digest.run_digests()

    left = db.session.scalars(select(Notification.subject).order_by(Notification.id)).all()
    assert left == ["παλιά αδιάβαστη", "πρόσφατη αναγνωσμένη"]


def test_the_job_follows_the_mail_settings(instance, smtp):
    with_mail(instance, smtp.knet_settings(digest_minutes=30))
    with running_node(instance) as app:
        handler = app.extensions[jobs.EXTENSION][digest.DIGEST_JOB]
        assert handler.every == 30 * 60
    with_mail(instance, smtp.knet_settings(digest_minutes=0))
    with running_node(instance) as app:
        assert digest.DIGEST_JOB not in app.extensions.get(jobs.EXTENSION, {})


def test_a_node_without_mail_has_no_digest_job(app):
    assert digest.DIGEST_JOB not in app.extensions.get(jobs.EXTENSION, {})


def test_last_digest_time_is_the_run_time(node, smtp, helper):
    maria = person("maria", "maria@example.gr")
    tell([maria], helper)
    moment = utcnow() + timedelta(minutes=5)
    digest.run_digests(moment)
    maria = fresh(maria)
    assert abs(as_utc(maria.last_digest_at) - moment) < timedelta(seconds=1)
    emailed = db.session.scalars(select(Notification.emailed_at).where(Notification.user_id == maria.id)).all()
    assert [abs(as_utc(when) - moment) < timedelta(seconds=1) for when in emailed] == [True]
