"""Certificates (learning.certificates and their pages in learning.certificate_routes): issued once on
completion, kept as they were, shown to anyone at an unguessable address, printable, and revoked by
administrators with a reason."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from knet.db import db
from knet.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from learning import certificates, courses, progress, versions
from learning.courses import CourseInput
from learning.models import Certificate
from tests.forms import csrf_token

EMAIL = "Maria.Papadopoulou@example.gr"


@pytest.fixture
def learner(make_user):
    person = make_user("maria", role="reader")
    person.display_name, person.email = "Μαρία Παπαδοπούλου", EMAIL
    db.session.commit()
    return person


@pytest.fixture
def admin(make_user):
    return make_user("ada", role="admin")


def text(response) -> str:
    return response.get_data(as_text=True)


def test_completing_a_course_issues_one_certificate_that_keeps_what_it_certified(
        trainer, learner, make_course, complete_course, client):
    course = make_course(trainer)
    enrolment, _new = progress.enrol(learner, course)
    with pytest.raises(Conflict, match="δεν έχει ολοκληρωθεί"):
        certificates.issue(enrolment)
    certificate = complete_course(learner, course)
    assert (certificate.recipient_name, certificate.recipient_email) == ("Μαρία Παπαδοπούλου", EMAIL)
    assert (certificate.course_title, certificate.course_version) == (course.title, 1)
    assert certificate.issued_at == enrolment.completed_at and certificate.revoked_at is None
    # Completing again (or the completion check running twice) gives the same certificate.
    assert certificates.issue(enrolment).id == certificate.id
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
    assert certificates.certificate_of(learner, course) is certificate
    assert certificates.certificates_of(learner) == [certificate]
    # A later title, version or name does not change what was certified.
    courses.update_course(trainer, course, CourseInput(title="Συμβάσεις, δεύτερη έκδοση"))
    versions.publish(trainer, course, "Νέος τίτλος")
    learner.display_name = "Μαρία Π."
    db.session.commit()
    page = text(client.get(f"/learning/certificates/{certificate.id}"))
    assert "Μαρία Παπαδοπούλου" in page and "Δημόσιες συμβάσεις για αρχάριους" in page
    assert "δεύτερη έκδοση" not in page


def test_certificate_addresses_are_random_and_unguessable(trainer, make_user, make_course, complete_course):
    course = make_course(trainer)
    issued = [complete_course(make_user(f"learner{n}", role="reader"), course) for n in range(3)]
    ids = [certificate.id for certificate in issued]
    assert len(set(ids)) == 3
    assert all(len(i) == 22 and certificates.ID_FORMAT.fullmatch(i) for i in ids)  # 128 random bits each
    assert not any(str(course.id) == i or i.isdigit() for i in ids)


def test_only_administrators_revoke_and_always_with_a_reason(trainer, learner, admin, make_user, make_course,
                                                              complete_course):
    certificate = complete_course(learner, make_course(trainer))
    with pytest.raises(Unauthorized):
        certificates.revoke(None, certificate, "Λάθος")
    for someone in (learner, trainer, make_user("mod", role="moderator")):
        with pytest.raises(Forbidden):
            certificates.revoke(someone, certificate, "Λάθος")
    for bad in ("", "   \n ", "x" * 501, "Λάθος\x00"):
        with pytest.raises(Invalid) as refused:
            certificates.revoke(admin, certificate, bad)
        assert refused.value.extra["field"] == "reason"
    assert certificate.revoked_at is None
    certificates.revoke(admin, certificate, "  Απονεμήθηκε   κατά λάθος. ")
    db.session.commit()
    assert certificate.revoked_reason == "Απονεμήθηκε κατά λάθος." and certificate.revoked_by_id == admin.id
    assert certificate.revoked_at is not None
    with pytest.raises(Conflict, match="έχει ήδη ανακληθεί"):
        certificates.revoke(admin, certificate, "Ξανά")


def test_the_certificate_page_is_public_printable_and_names_no_address(trainer, learner, admin, make_course,
                                                                      complete_course, client, sign_in):
    certificate = complete_course(learner, make_course(trainer))
    client.set_cookie("knet_lang", "en")
    response = client.get(f"/learning/certificates/{certificate.id}")
    page = text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    assert "Μαρία Παπαδοπούλου" in page and "Δημόσιες συμβάσεις για αρχάριους" in page and "Δήμος Δοκιμών" in page
    assert '<html lang="en">' in page and '<meta name="robots" content="noindex">' in page
    assert f'href="http://127.0.0.1:5000/learning/certificates/{certificate.id}.json"' in page
    assert EMAIL.lower() not in page.lower() and "maria" not in page.lower()  # neither address nor username
    assert "csrf_token" not in page and f"{certificate.id}/revoke" not in page  # visitors get no form
    # Printed: the certificate alone, on an A4 landscape page, without the node's header, menus and footer.
    with client.get("/learning/certificates/static/certificate.css") as stylesheet:
        css = text(stylesheet)
        assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css"
    assert "size: A4 landscape" in css and "@media print" in css
    printed = css[css.index("@media print"):]
    assert all(part in printed.split("{")[1] for part in (".site-header", ".site-footer", ".no-print"))
    assert 'class="certificate-verify no-print"' in page
    # The course link is there only for those who may see the course (it is internal).
    assert "/learning/courses/" not in page.split("certificate-verify")[1].split("</section>")[0]
    admin_page = text(sign_in(admin).get(f"/learning/certificates/{certificate.id}"))
    assert f"http://127.0.0.1:5000/learning/courses/{certificate.course_id}" in admin_page
    assert 'action="/learning/certificates/' in admin_page and "csrf_token" in admin_page


def test_an_administrator_revokes_through_the_page_and_it_then_verifies_as_revoked(
        trainer, learner, admin, make_course, complete_course, client, sign_in, app):
    certificate = complete_course(learner, make_course(trainer))
    address = f"/learning/certificates/{certificate.id}"
    client.set_cookie("knet_lang", "en")
    assert client.post(f"{address}/revoke", data={"reason": "x"}).status_code == 400  # no CSRF token
    signed_in = sign_in(admin)
    token = csrf_token(text(signed_in.get(address)))
    refused = signed_in.post(f"{address}/revoke", data={"reason": "  ", "csrf_token": token})
    assert refused.status_code == 400 and "Give the reason for revoking" in text(refused)
    assert 'aria-invalid="true"' in text(refused)
    done = signed_in.post(f"{address}/revoke", data={"reason": "Η εξέταση έγινε από άλλον.", "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"] == address
    visitor = app.test_client()
    visitor.set_cookie("knet_lang", "en")
    page = text(visitor.get(address))
    assert "<h1 id=\"certificate-heading\">Revoked certificate</h1>" in page
    assert "This certificate has been revoked" in page and "Revoked on" in page
    assert "Η εξέταση έγινε από άλλον." in page and 'class="certificate revoked"' in page
    assert f"{certificate.id}/revoke" not in text(signed_in.get(address))  # no form once it is revoked
    assertion = visitor.get(f"{address}.json")
    assert assertion.status_code == 410
    assert assertion.json["revoked"] is True and assertion.json["revocationReason"] == "Η εξέταση έγινε από άλλον."
    again = signed_in.post(f"{address}/revoke", data={"reason": "Ξανά", "csrf_token": token})
    assert again.status_code == 409


def test_people_who_are_not_administrators_cannot_revoke(trainer, learner, make_course, complete_course, client,
                                                         sign_in):
    certificate = complete_course(learner, make_course(trainer))
    address = f"/learning/certificates/{certificate.id}"
    anonymous = client.post(f"{address}/revoke", data={"reason": "x", "csrf_token": csrf_token(
        text(client.get("/login")))})
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    as_trainer = sign_in(trainer)
    token = csrf_token(text(as_trainer.get("/login")))
    refused = as_trainer.post(f"{address}/revoke", data={"reason": "Δεν μου αρέσει.", "csrf_token": token})
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).revoked_at is None


@pytest.mark.parametrize("certificate_id", ["nope", "x" * 40, "a.b", "%00", "ab%20cd", "Ζήτα"])
def test_unknown_certificates_answer_404_with_a_sentence(client, certificate_id):
    client.set_cookie("knet_lang", "en")
    page = client.get(f"/learning/certificates/{certificate_id}")
    assert page.status_code == 404 and "There is no certificate at this address" in text(page)
    assertion = client.get(f"/learning/certificates/{certificate_id}.json")
    assert assertion.status_code == 404 and assertion.mimetype == "application/problem+json"
    assert assertion.json["status"] == 404 and assertion.json["detail"]
    assert assertion.headers["Access-Control-Allow-Origin"] == "*"


def test_revoking_an_unknown_certificate_is_404(admin, sign_in):
    signed_in = sign_in(admin)
    token = csrf_token(text(signed_in.get("/login")))
    assert signed_in.post("/learning/certificates/nope/revoke", data={"reason": "x", "csrf_token": token}
                          ).status_code == 404
    with pytest.raises(NotFound):
        certificates.get("nope")
