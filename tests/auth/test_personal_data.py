"""A person's data protection rights (auth.erasure, knet.personal_data): an administrator exports everything
the node keeps about them, and erases them; what they wrote stays, shown as by former staff."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from flask_babel import force_locale
from PIL import Image
from sqlalchemy import select

from auth import account_purge, admin, directory, erasure, people, services as auth_services
from auth.ldap import Person
from auth.models import ApiToken, AuditEvent, Consent, Notification, ProfilePhoto, User
from auth.people import ProfileInput
from knet import jobs
from knet.content import INDEX_JOB
from knet.db import db
from knet.errors import Conflict, Invalid
from learning import certificates, courses, progress, quizzes, structure, versions
from learning.courses import CourseInput
from learning.models import Certificate, Enrolment, QuizAttempt
from learning.structure import OptionInput, QuestionInput as QuizQuestionInput
from qa import services as qa
from qa.models import Question, Vote
from qa.services import QuestionInput
from tests.auth.test_provider import PEER, add_peer
from tests.conftest import PASSWORD, post_sign_in
from tests.forms import csrf_token
from tests.test_cli import knet_all
from wiki import services as wiki
from wiki.services import PageInput


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def people_at_work(app, make_user):
    """maria, who did a bit of everything (the one to export and erase), and nikos, who did the same; their
    texts are told apart by the words "Μαρίας" and "Νίκου"."""
    maria, nikos = make_user("maria", role="trainer"), make_user("nikos", role="editor")
    maria.display_name, maria.email, maria.granted_roles = "Μαρία Παπαδοπούλου", "maria@dimos.gr", "editor trainer"
    people.update_profile(maria, maria, ProfileInput(about="Ρωτήστε με για ΕΣΠΑ", skills=["ΕΣΠΑ", "GIS"],
                                                     languages=["el", "en"], visibility="network"))
    people.set_photo(maria, maria, _photo())
    limit = app.config["KNET"]["max_body_bytes"]
    page = wiki.create_page(maria, PageInput(title="Οδηγός της Μαρίας", body="Το κείμενο της Μαρίας.",
                                             visibility="public"), limit)
    other_page = wiki.create_page(nikos, PageInput(title="Σημειώσεις του Νίκου", body="Το κείμενο του Νίκου."),
                                  limit)
    question = qa.ask(nikos, QuestionInput(title="Ερώτηση του Νίκου;", body="Σώμα ερώτησης του Νίκου."))
    answer = qa.answer(maria, question, "Απάντηση της Μαρίας.")
    qa.answer(nikos, question, "Απάντηση του Νίκου.")
    qa.comment(maria, "Σχόλιο της Μαρίας.", question=question)
    own_question = qa.ask(maria, QuestionInput(title="Ερώτηση της Μαρίας;", body="Σώμα ερώτησης της Μαρίας.",
                                               visibility="public"))
    qa.answer(nikos, own_question, "Δεύτερη απάντηση του Νίκου.")  # notifies maria
    qa.vote(maria, 1, question=question)
    course = courses.create_course(maria, CourseInput(title="Μάθημα της Μαρίας", summary="Περίληψη."))
    module = structure.add_module(maria, course, "Εισαγωγή")
    structure.add_lesson(maria, module, "Μάθημα 1", "Κείμενο.")
    quiz = structure.add_quiz(maria, module, "Τεστ", pass_percent=50, max_attempts=3)
    made = structure.add_question(maria, quiz, QuizQuestionInput(
        kind="single", prompt="Όριο;", options=[OptionInput("30.000 €", correct=True), OptionInput("300 €")]))
    versions.publish(maria, course, "Πρώτη έκδοση")
    enrolment, _new = progress.enrol(maria, course)
    progress.open_item(maria, course, module.items[0].key)
    quizzes.submit(maria, course, quiz.key, {made.key: [made.options[0]["key"]]})
    db.session.flush()
    certificate = certificates.issue(enrolment)
    progress.enrol(nikos, course)
    db.session.commit()
    return maria, nikos, {"page": page, "other_page": other_page, "question": question, "answer": answer,
                          "own_question": own_question, "course": course, "certificate": certificate}


def _admin_client(app, make_user, username: str = "root"):
    make_user(username, role="admin")
    client = app.test_client()
    client.set_cookie("knet_lang", "en")
    assert post_sign_in(client, username, PASSWORD).status_code == 302
    return client


def _export(client, username: str) -> tuple[dict, zipfile.ZipFile]:
    page = client.get(f"/admin/people/{username}").get_data(as_text=True)
    response = client.post(f"/admin/people/{username}/export", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    return json.loads(archive.read("data.json")), archive


def test_the_export_holds_the_persons_data_from_every_feature_and_nothing_of_others(app, make_user, people_at_work):
    maria, nikos, made = people_at_work
    client = _admin_client(app, make_user)
    auth_services.issue_token(maria, "read")
    db.session.commit()
    document, archive = _export(client, "maria")
    data = document["data"]
    assert document["subject"] == "maria"
    assert data["auth"]["account"]["email"] == "maria@dimos.gr"
    assert sorted(data["auth"]["profile"]["skills"]) == ["GIS", "ΕΣΠΑ"]
    assert data["auth"]["profile"]["about"] == "Ρωτήστε με για ΕΣΠΑ"
    assert [token["scope"] for token in data["auth"]["api_tokens"]] == ["read"]
    assert [note["kind"] for note in data["auth"]["notifications"]] == ["qa.answer"]
    assert any(event["action"] == "sign_in" for event in data["auth"]["audit_events"]) is False  # never signed in
    assert archive.read("auth/photo.jpg")[:3] == b"\xff\xd8\xff"
    assert [page["title"] for page in data["wiki"]["pages_created"]] == ["Οδηγός της Μαρίας"]
    assert data["wiki"]["revisions"][0]["text"] == "Το κείμενο της Μαρίας."
    assert [q["title"] for q in data["qa"]["questions"]] == ["Ερώτηση της Μαρίας;"]
    assert [a["text"] for a in data["qa"]["answers"]] == ["Απάντηση της Μαρίας."]
    assert [c["text"] for c in data["qa"]["comments"]] == ["Σχόλιο της Μαρίας."]
    assert [v["value"] for v in data["qa"]["votes"]] == [1]
    [enrolment] = data["learning"]["enrolments"]
    assert enrolment["course_title"] == "Μάθημα της Μαρίας" and enrolment["completed_at"]
    assert [attempt["percent"] for attempt in enrolment["quiz_attempts"]] == [100]
    assert [c["id"] for c in data["learning"]["certificates"]] == [made["certificate"].id]
    assert data["learning"]["courses_created_or_taught"][0]["created_by_me"] is True
    everything = json.dumps(document, ensure_ascii=False)
    assert "Νίκου" not in everything and "nikos" not in everything
    assert "password" not in everything and "digest" not in json.dumps(data["auth"]["api_tokens"])
    # The download is in the audit log, with who made it.
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "personal_data_exported"))
    assert event.username == "maria" and event.detail == "by root"


def test_only_administrators_export_or_erase_and_only_with_the_csrf_token(app, make_user, browse):
    make_user("maria")
    editor = browse(make_user("eleni", role="moderator"))
    page = editor.get("/people/maria").get_data(as_text=True)
    token = csrf_token(page)
    assert editor.post("/admin/people/maria/export", data={"csrf_token": token}).status_code == 403
    assert editor.get("/admin/people/maria/erase").status_code == 403
    assert editor.post("/admin/people/maria/erase", data={"csrf_token": token, "confirm": "maria"}).status_code == 403
    client = _admin_client(app, make_user)
    assert client.post("/admin/people/maria/export").status_code == 400
    assert client.post("/admin/people/maria/erase", data={"confirm": "maria"}).status_code == 400
    assert client.post("/admin/people/nobody/export", data={"csrf_token": token}).status_code in (400, 404)
    db.session.expire_all()
    assert not User.by_username("maria").is_erased
    assert db.session.query(AuditEvent).filter_by(action="personal_data_exported").count() == 0


def _erase_on_the_page(client, username: str):
    page = client.get(f"/admin/people/{username}/erase")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    wrong = client.post(f"/admin/people/{username}/erase", data={"csrf_token": csrf_token(text), "confirm": "oops"})
    assert wrong.status_code == 400 and "exactly to confirm" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert not User.by_username(username).is_erased
    return client.post(f"/admin/people/{username}/erase", data={"csrf_token": csrf_token(text),
                                                                "confirm": username})


def test_erasing_keeps_the_content_as_by_former_staff_and_removes_the_person(app, make_user, make_token, people_at_work,
                                                                               browse):
    maria, nikos, made = people_at_work
    maria_id, certificate_id = maria.id, made["certificate"].id
    header = make_token(maria, "read")
    signed_in = browse(maria)
    assert signed_in.get("/api/v1/me").status_code == 200
    assert app.test_client().get("/api/v1/me", headers=header).status_code == 200
    client = _admin_client(app, make_user)
    response = _erase_on_the_page(client, "maria")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/people/former-{maria_id}")
    # The erasure is in the audit log; the older entries about her (her sign-in) name the pseudonym.
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.user_id == maria_id)).all()
    assert {event.action for event in events} >= {"sign_in", "erased"}
    assert {event.username for event in events} == {f"former-{maria_id}"}
    assert "erased" in client.get("/admin/audit").get_data(as_text=True)
    person = db.session.get(User, maria_id)
    assert person.username == f"former-{maria_id}" and person.is_erased and not person.active
    assert (person.display_name, person.email, person.password_hash, person.about, person.skills,
            person.languages, person.title) == ("", None, None, "", [], "", "")
    assert db.session.get(ProfilePhoto, maria_id) is None
    assert db.session.query(ApiToken).filter_by(user_id=maria_id).count() == 0
    assert db.session.query(Notification).filter_by(user_id=maria_id).count() == 0
    assert db.session.query(Enrolment).filter_by(user_id=maria_id).count() == 0
    assert db.session.query(QuizAttempt).count() == 0  # only maria had made one
    assert db.session.get(Certificate, certificate_id) is None
    assert db.session.query(Enrolment).filter_by(user_id=nikos.id).count() == 1  # nikos's stay
    assert db.session.query(Vote).filter_by(user_id=maria_id).count() == 1  # kept, under the pseudonym
    assert db.session.get(Question, made["question"].id).score == 1  # so nikos's question keeps its score
    # Old token, old session, old password: all refused.
    assert app.test_client().get("/api/v1/me", headers=header).status_code == 401
    assert signed_in.get("/api/v1/me").status_code == 401
    assert post_sign_in(app.test_client(), "maria", PASSWORD).status_code != 302
    # The content stays, by former staff, in English and in Greek.
    reader = browse(nikos)
    greek = browse(nikos, language="el")
    for path in ("/wiki/" + made["page"].slug, "/wiki/" + made["page"].slug + "/history",
                 f"/questions/{made['question'].id}", f"/questions/{made['own_question'].id}",
                 f"/learning/courses/{made['course'].id}", "/pages/recent.atom"):
        english = reader.get(path)
        assert english.status_code == 200, path
        assert "former staff" in english.get_data(as_text=True), path
        assert "Παπαδοπούλου" not in english.get_data(as_text=True), path
        assert "Πρώην υπάλληλος" in greek.get(path).get_data(as_text=True), path


def test_erasure_tells_peers_and_the_index_through_content_events(app, make_user, people_at_work):
    maria, _nikos, made = people_at_work
    jobs.run_pending()
    old_profile = app.config["KNET"]["url"] + "/people/maria"
    erasure.erase_person(None, maria)
    db.session.commit()
    uris = {job.payload.get("uri") for job in db.session.scalars(select(jobs.Job).where(
        jobs.Job.state == jobs.PENDING, jobs.Job.kind == INDEX_JOB))}
    base = app.config["KNET"]["url"]
    assert old_profile in uris
    assert f"{base}/pages/{made['page'].id}" in uris
    assert f"{base}/questions/{made['own_question'].id}" in uris
    assert f"{base}/questions/{made['question'].id}" in uris  # it carries her comment
    assert f"{base}/answers/{made['answer'].id}" in uris
    assert f"{base}/learning/courses/{made['course'].id}" in uris


def test_a_second_erasure_is_a_no_op_and_the_last_administrator_stays(app, make_user, people_at_work):
    maria, _nikos, _made = people_at_work
    root = make_user("root", role="admin")
    assert erasure.erase_person(root, maria) is True
    db.session.commit()
    assert erasure.erase_person(root, maria) is False
    with pytest.raises(Invalid):  # nor can it be reactivated
        admin.set_active(root, maria, True)
    with pytest.raises(Invalid):
        erasure.erase_person(root, root)
    with pytest.raises(Invalid) as refused:
        erasure.erase_person(None, root)
    with force_locale("en"):
        assert "last active administrator" in str(refused.value.message)
    make_user("root2", role="admin")
    assert erasure.erase_person(None, root) is True
    db.session.commit()
    # What root did to others stays in the log, done by root's pseudonym.
    [maria_erased] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "erased",
                                                                  AuditEvent.user_id == maria.id))
    assert maria_erased.detail == f"by former-{root.id}"


def test_the_same_directory_uid_signing_in_again_gets_a_new_empty_account(athens_node, athens_directory):
    """The erased account keeps only its pseudonym, so the same uid signing in again through the directory
    (real slapd) finds no account and gets a new one, with nothing of the old content."""
    account = athens_directory.accounts["maria"]
    assert post_sign_in(athens_node.test_client(), "maria", account.password).status_code == 302
    maria = User.by_username("maria")
    page = wiki.create_page(maria, PageInput(title="Μισθοδοσία", body="Κείμενο."), 100_000)
    db.session.commit()
    assert erasure.erase_person(None, maria) is True
    db.session.commit()
    client = athens_node.test_client()
    assert post_sign_in(client, "maria", account.password).status_code == 302
    assert client.get("/api/v1/me").get_json()["name"] == account.display_name
    fresh = User.by_username("maria")
    assert fresh.id != maria.id and not fresh.is_erased
    assert page.author_id == maria.id and db.session.get(User, maria.id).is_erased
    with pytest.raises(Conflict):  # a uid spelt like the pseudonym cannot take the erased account over
        directory.record_person(Person(username=f"former-{maria.id}", dn="uid=x,dc=athens,dc=gr", name="X",
                                       email=None, title="", phone="", units=(), groups=(), roles=()))


def test_the_commands_export_and_erase(app, make_user, people_at_work, instance, tmp_path):
    maria, _nikos, _made = people_at_work
    root = make_user("root", role="admin")
    out = tmp_path / "maria.zip"
    exported, unknown, last_admin = knet_all([
        ["user", "export-data", "--instance", str(instance), "--username", "maria", str(out)],
        ["user", "erase", "--instance", str(instance), "--username", "nobody", "--yes"],
        ["user", "erase", "--instance", str(instance), "--username", "root", "--yes"],
    ])
    assert exported.returncode == 0, exported.stderr
    data = json.loads(zipfile.ZipFile(out).read("data.json"))
    assert data["data"]["wiki"]["pages_created"][0]["title"] == "Οδηγός της Μαρίας"
    for refused in (unknown, last_admin):
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "There is no account called 'nobody'" in unknown.stderr
    assert "last active administrator" in last_admin.stderr
    [erased] = knet_all([["user", "erase", "--instance", str(instance), "--username", "maria", "--yes"]])
    assert erased.returncode == 0, erased.stderr
    assert f"former-{maria.id}" in erased.stdout
    [again] = knet_all([["user", "erase", "--instance", str(instance), "--username", f"former-{maria.id}", "--yes"]])
    assert again.returncode == 0 and "already erased" in again.stdout
    db.session.expire_all()
    assert db.session.get(User, maria.id).is_erased and db.session.get(User, root.id).active


def test_the_peers_where_a_person_signed_in_are_named_and_told_of_the_erasure(app, make_user):
    maria = make_user("maria")
    add_peer()  # Thessaloniki, where Maria agreed to sign in
    add_peer("http://127.0.0.1:5998")  # a peer she never visited
    db.session.add(Consent(user_id=maria.id, client_id=PEER))
    db.session.commit()
    maria_id = maria.id
    client = _admin_client(app, make_user)
    page = client.get("/admin/people/maria/erase").get_data(as_text=True)
    assert "told to erase their visitor account there too: Δήμος Θεσσαλονίκης." in page
    erased = client.post("/admin/people/maria/erase", data={"csrf_token": csrf_token(page), "confirm": "maria"},
                         follow_redirects=True)
    assert "will be told to erase their visitor account too: Δήμος Θεσσαλονίκης." in erased.get_data(as_text=True)
    told = db.session.scalars(select(jobs.Job).where(jobs.Job.kind == account_purge.TELL_JOB)).all()
    assert [job.payload for job in told] == [{"peer_url": PEER, "subject": str(maria_id)}], "only where she visited"
    assert db.session.scalar(select(Consent).where(Consent.user_id == maria_id)) is None


def test_a_peer_whose_agreement_is_suspended_is_told_once_it_is_active_again(app, make_user):
    maria = make_user("maria")
    add_peer(state="suspended")
    db.session.add(Consent(user_id=maria.id, client_id=PEER))
    db.session.commit()
    erasure.erase_person(None, maria)
    db.session.commit()
    jobs.run_pending()
    job = db.session.scalars(select(jobs.Job).where(jobs.Job.kind == account_purge.TELL_JOB)).one()
    assert (job.state, job.attempts) == (jobs.PENDING, 0), "waiting, without using up its tries"
    assert "the agreement with http://127.0.0.1:5999 is suspended" in job.last_error
