"""Several people acting at the same moment, each in their own thread and transaction."""
from __future__ import annotations

import threading
from collections.abc import Callable

from auth.models import User
from knet.db import db


def at_once(app, actions: list[tuple[str, Callable[[User], object]]]) -> list[str]:
    """Every (username, action) runs in its own thread and transaction, all released together; returns
    a line for each that failed."""
    start, errors = threading.Barrier(len(actions)), []

    def act(username: str, action: Callable[[User], object]) -> None:
        with app.app_context():
            try:
                actor = User.by_username(username)
                start.wait()
                action(actor)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - every failure is reported by the test
                db.session.rollback()
                errors.append(f"{username}: {type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=act, args=action) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors
