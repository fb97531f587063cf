"""Published courses are found by the node's search; drafts and archived courses are not."""
from __future__ import annotations

from knet import jobs
from knet.db import db
from learning import courses, structure, versions
from learning.courses import CourseInput


def _found(client, query: str) -> list[str]:
    return [hit["title"] for hit in client.get(f"/api/v1/search?q={query}&type=course").json["results"]]


def test_published_courses_are_found_by_their_words_and_lessons(make_user, make_course, client):
    trainer = make_user("tina", role="trainer")
    make_course(trainer, "Γεωγραφικά συστήματα για τεχνικές υπηρεσίες", visibility="public")
    draft = make_course(trainer, "Πρόχειρο μάθημα γεωγραφικών", visibility="public", publish=False)
    jobs.run_pending()
    assert _found(client, "γεωγραφικα") == ["Γεωγραφικά συστήματα για τεχνικές υπηρεσίες"]
    assert _found(client, "μαθημα") == ["Γεωγραφικά συστήματα για τεχνικές υπηρεσίες"]  # a lesson's title

    versions.publish(trainer, draft)
    db.session.commit()
    jobs.run_pending()
    assert len(_found(client, "γεωγραφικων")) == 2


def test_archived_and_internal_courses_leave_public_search(make_user, make_course, client):
    trainer = make_user("tina", role="trainer")
    archived = make_course(trainer, "Παλιό μάθημα πυρασφάλειας", visibility="public")
    make_course(trainer, "Εσωτερικό μάθημα πυρασφάλειας", visibility="internal")
    jobs.run_pending()
    assert _found(client, "πυρασφαλειας") == ["Παλιό μάθημα πυρασφάλειας"]
    courses.set_state(trainer, archived, "archived")
    db.session.commit()
    jobs.run_pending()
    assert _found(client, "πυρασφαλειας") == []


def test_a_published_course_keeps_its_published_words_until_republished(make_user, make_course, client):
    trainer = make_user("tina", role="trainer")
    course = make_course(trainer, "Ύδρευση και αποχέτευση", visibility="public")
    structure.rename_module(trainer, course.modules[0], "Καινούρια ενότητα")
    courses.update_course(trainer, course, CourseInput(title="Ύδρευση και αποχέτευση (νέα)", visibility="public"))
    db.session.commit()
    jobs.run_pending()
    assert _found(client, "υδρευση") == ["Ύδρευση και αποχέτευση"]
