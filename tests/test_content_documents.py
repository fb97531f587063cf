"""What each content type would send peers (the `document` of knet.content's contract): a shareable object
as an ActivityStreams-shaped dict, the same for the same state and different after an edit; anything
private, internal, hidden, deleted, draft or inactive as None; never the private things attached to it."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from sqlalchemy import select

from auth import content as person_content, people
from auth.models import Department
from auth.people import ProfileInput
from knet import jobs
from knet.content import INDEX_JOB, content_type
from knet.db import db
from knet.jobs import Job
from learning import courses, progress, structure, versions
from learning.courses import COURSE_TYPE, CourseInput
from learning.structure import OptionInput, QuestionInput as QuizQuestion
from qa import communities, moderation, services as qa
from qa.communities import COMMUNITY_TYPE
from qa.services import ANSWER_TYPE, QUESTION_TYPE, QuestionInput
from tests.xss import dangers
from wiki import content as page_content, services as wiki
from wiki.services import PageInput

PAGE, PERSON = page_content.TYPE, person_content.TYPE
#: Markdown that tries to run a script in every way a reader of the document might render it.
XSS = ("<script>alert('xss')</script>\n\n<img src=x onerror=alert(1)>\n\n[κλικ](javascript:alert(1))\n\n"
       '<a href="javascript:alert(1)">κλικ</a> <svg onload=alert(1)></svg> <iframe srcdoc="x"></iframe>')
#: Every key the shared builder may write: a document has no others but those its type names.
BUILDER_KEYS = {"id", "type", "name", "url", "content", "summary", "tag", "attributedTo", "published", "updated",
                "inReplyTo", "context", "contentMap", "knet:language", "knet:licence", "knet:visibility", "source"}


def document(type_name: str, object_id: int) -> dict | None:
    """The document peers would get now, checked to come through JSON unchanged, as it travels."""
    found = content_type(type_name).document(object_id)
    if found is not None:
        assert json.loads(json.dumps(found)) == found
    return found


def text_of(found: dict) -> str:
    return json.dumps(found, ensure_ascii=False)


def uri_of(type_name: str, object_id: int) -> str:
    return content_type(type_name).search_document(object_id).uri


def tags_of(found: dict) -> list[str]:
    return [tag["name"] for tag in found["tag"]]


def assert_safe(html: str) -> None:
    assert html and dangers(html) == [] and "<script" not in html.lower()


@pytest.fixture
def base(app) -> str:
    return app.config["KNET"]["url"]


def named(make_user, username: str, display_name: str, role: str = "editor"):
    person = make_user(username, role=role)
    person.display_name = display_name
    db.session.commit()
    return person


def commit(done):
    db.session.commit()
    return done


# Wiki pages --------------------------------------------------------------------------------------

def edit_page(author, page, body: str, visibility: str, summary: str = ""):
    return commit(wiki.update_page(author, page, PageInput(page.title, body, visibility=visibility, tags=page.tag_names,
                                                           summary=summary), page.revision, 1_000_000))


def test_a_network_page_travels_as_an_article_of_its_current_revision(app, base, make_user, make_page, browse):
    eleni = named(make_user, "eleni", "Ελένη Νικολάου")
    page = make_page(eleni, "Ωράριο κοινού", "Ανοιχτά **το πρωί**.", visibility="network", tags=["δημότες"])
    first = document(PAGE, page.id)
    assert first == document(PAGE, page.id)
    assert first["id"] == uri_of(PAGE, page.id) == f"{base}/pages/{page.id}"
    assert first["type"] == "Article" and first["name"] == "Ωράριο κοινού" and first["knet:visibility"] == "network"
    assert "<strong>το πρωί</strong>" in first["content"] and first["source"]["content"] == "Ανοιχτά **το πρωί**."
    assert first["url"] == f"{base}/wiki/{quote(page.slug)}" and first["knet:slug"] == page.slug
    assert browse(eleni).get(first["url"].removeprefix(base)).status_code == 200
    assert tags_of(first) == ["δημότες"] and first["attributedTo"]["name"] == "Ελένη Νικολάου"
    assert (first["knet:language"], first["knet:licence"]) == ("el", "CC-BY-4.0") and first["summary"] == ""

    edit_page(eleni, page, "Ανοιχτά και το απόγευμα.", "network", summary="Διόρθωσα το λάθος ωράριο")
    second = document(PAGE, page.id)
    assert second != first and "απόγευμα" in second["content"] and second["published"] == first["published"]
    assert "πρωί" not in text_of(second), "the history stays home"
    assert "Διόρθωσα" not in text_of(second), "an edit summary tells an edit, not the page"


def test_pages_that_may_not_leave_give_none(app, make_user, make_page):
    eleni = make_user("eleni")
    private = make_page(eleni, "Σημειώσεις μου", visibility="private")
    internal = make_page(eleni, "Εσωτερικός κανονισμός", visibility="internal")
    deleted = make_page(eleni, "Παλιά ανακοίνωση", visibility="public")
    commit(wiki.delete_page(eleni, deleted))
    narrowed = make_page(eleni, "Για όλους", visibility="public")
    assert document(PAGE, narrowed.id)["knet:visibility"] == "public"
    edit_page(eleni, narrowed, "Τελικά μόνο για εμάς.", "internal")
    for page in (private, internal, deleted, narrowed):
        assert document(PAGE, page.id) is None, page.title
    assert document(PAGE, 999_999) is None


def test_a_script_in_a_page_comes_out_sanitised(app, make_user, make_page):
    page = make_page(make_user("eleni"), "Επικίνδυνη σελίδα", XSS, visibility="public")
    assert_safe(document(PAGE, page.id)["content"])


# Questions, answers and comments ------------------------------------------------------------------

def ask(author, title: str = "Πώς υπολογίζεται η υπερωρία;", body: str = "Ποιος είναι ο τύπος;", **fields):
    return commit(qa.ask(author, QuestionInput(title=title, body=body, **fields)))


def answer(author, question, body: str = "Με τον τύπο του νόμου 4354/2015."):
    return commit(qa.answer(author, question, body))


def edit_question(author, question, visibility: str, body: str | None = None):
    data = QuestionInput(question.title, body or question.body, question.tag_names, question.language, visibility,
                         question.community_id)
    return commit(qa.edit_question(author, question, data))


def test_a_question_travels_as_a_page_with_its_visible_comments_and_without_its_answers(app, base, make_user):
    maria = named(make_user, "maria", "Μαρία Παπαδοπούλου")
    nikos = named(make_user, "nikos", "Νίκος Γεωργίου")
    moderator = make_user("mod", role="moderator")
    community = commit(communities.create_community(moderator, "Μισθοδοσία", "Για όσους πληρώνουν.", "network"))
    question = ask(maria, body="Ποιος είναι ο **τύπος**;", tags=["Υπερωρίες"], visibility="network",
                   community_id=community.id)
    remark = commit(qa.comment(nikos, "Εξαρτάται από το ωράριο.", question=question))
    rude = commit(qa.comment(nikos, "Μυστικό σχόλιο που κρύφτηκε.", question=question))
    commit(moderation.hide(moderator, "comment", rude.id, "Εκτός θέματος."))

    first = document(QUESTION_TYPE, question.id)
    assert first == document(QUESTION_TYPE, question.id)
    assert first["id"] == uri_of(QUESTION_TYPE, question.id) == first["url"] == f"{base}/questions/{question.id}"
    assert first["type"] == "Page" and first["name"] == question.title and first["knet:visibility"] == "network"
    assert "<strong>τύπος</strong>" in first["content"] and first["source"]["content"] == "Ποιος είναι ο **τύπος**;"
    assert tags_of(first) == ["Υπερωρίες"] and first["attributedTo"]["name"] == "Μαρία Παπαδοπούλου"
    assert first["knet:community"] == communities.community_uri(community.id) and "knet:accepted" not in first
    assert [(c["content"], c["author"]) for c in first["knet:comments"]] == [
        ("<p>Εξαρτάται από το ωράριο.</p>", "Νίκος Γεωργίου")]
    assert first["knet:comments"][0]["published"].endswith("Z")
    assert "Μυστικό" not in text_of(first), "a hidden comment stays home"

    reply = answer(nikos, question)
    assert document(QUESTION_TYPE, question.id) == first, "an answer travels as its own document"
    commit(qa.accept(maria, reply))
    accepted = document(QUESTION_TYPE, question.id)
    assert accepted["knet:accepted"] == uri_of(ANSWER_TYPE, reply.id)

    edit_question(maria, question, "network", body="Ποιος τύπος ισχύει φέτος;")
    edited = document(QUESTION_TYPE, question.id)
    assert edited != accepted and "φέτος" in edited["content"] and edited["updated"] > accepted["updated"]
    assert edited["published"] == first["published"]


def test_an_answer_travels_as_a_note_in_reply_to_its_question(app, base, make_user):
    maria, nikos = make_user("maria"), named(make_user, "nikos", "Νίκος Γεωργίου")
    moderator = make_user("mod", role="moderator")
    question = ask(maria, visibility="public", language="en")
    reply = answer(nikos, question, "Με τον **τύπο** του νόμου.")
    commit(qa.comment(maria, "Ευχαριστώ!", answer=reply))
    hidden = commit(qa.comment(maria, "Κρυφό σχόλιο στην απάντηση.", answer=reply))
    commit(moderation.hide(moderator, "comment", hidden.id, "Προσωπικά δεδομένα."))

    first = document(ANSWER_TYPE, reply.id)
    assert first == document(ANSWER_TYPE, reply.id)
    assert first["id"] == uri_of(ANSWER_TYPE, reply.id) == f"{base}/answers/{reply.id}"
    assert first["type"] == "Note" and first["inReplyTo"] == uri_of(QUESTION_TYPE, question.id)
    assert first["url"] == f"{base}/questions/{question.id}#answer-{reply.id}"
    assert "<strong>τύπο</strong>" in first["content"] and first["attributedTo"]["name"] == "Νίκος Γεωργίου"
    assert (first["knet:visibility"], first["knet:language"]) == ("public", "en"), "its question's"
    assert [c["content"] for c in first["knet:comments"]] == ["<p>Ευχαριστώ!</p>"] and "Κρυφό" not in text_of(first)
    assert first["knet:accepted"] is False

    commit(qa.accept(maria, reply))
    assert document(ANSWER_TYPE, reply.id)["knet:accepted"] is True
    commit(qa.edit_answer(nikos, reply, "Με τον τύπο του νόμου 4354/2015."))
    edited = document(ANSWER_TYPE, reply.id)
    assert "4354/2015" in edited["content"] and edited["updated"] > first["updated"]


def test_questions_and_answers_that_may_not_leave_give_none(app, make_user):
    maria, nikos = make_user("maria"), make_user("nikos")
    moderator = make_user("mod", role="moderator")
    private, internal = ask(maria, visibility="private"), ask(maria, visibility="internal")
    hidden = ask(maria, "Ερώτηση που θα κρυφτεί;", visibility="network")
    under_hidden = answer(nikos, hidden)
    commit(moderation.hide(moderator, "question", hidden.id, "Διπλή ανάρτηση."))
    shared = ask(maria, "Ερώτηση για όλο το δίκτυο;", visibility="network")
    hidden_answer, narrowed_answer = answer(nikos, shared, "Απάντηση που θα κρυφτεί."), answer(maria, shared)
    commit(moderation.hide(moderator, "answer", hidden_answer.id, "Λάθος."))
    assert document(ANSWER_TYPE, narrowed_answer.id) is not None
    edit_question(maria, shared, "internal")
    for question in (private, internal, hidden, shared):
        assert document(QUESTION_TYPE, question.id) is None, question.title
    for reply in (under_hidden, hidden_answer, narrowed_answer, answer(nikos, internal)):
        assert document(ANSWER_TYPE, reply.id) is None, reply.body
    assert document(QUESTION_TYPE, 999_999) is None and document(ANSWER_TYPE, 999_999) is None


def test_a_question_leaves_out_a_community_that_does_not_travel(app, make_user):
    moderator = make_user("mod", role="moderator")
    community = commit(communities.create_community(moderator, "Εσωτερική ομάδα", "Μόνο για εμάς.", "internal"))
    question = ask(moderator, visibility="network", community_id=community.id)
    assert "knet:community" not in document(QUESTION_TYPE, question.id)


def test_a_script_in_a_question_an_answer_or_a_comment_comes_out_sanitised(app, make_user):
    maria, nikos = make_user("maria"), make_user("nikos")
    question = ask(maria, "Τι κάνει αυτό το σενάριο;", XSS, visibility="public")
    reply = answer(nikos, question, XSS)
    commit(qa.comment(nikos, XSS, question=question))
    commit(qa.comment(maria, XSS, answer=reply))
    for found in (document(QUESTION_TYPE, question.id), document(ANSWER_TYPE, reply.id)):
        assert_safe(found["content"])
        assert_safe(found["knet:comments"][0]["content"])


def pending_uris() -> set[str]:
    """The objects whose change is recorded and not yet handled; handles them, for the next look."""
    uris = {job.payload["uri"] for job in db.session.scalars(
        select(Job).where(Job.kind == INDEX_JOB, Job.state == jobs.PENDING))}
    jobs.run_pending()
    return uris


def test_changes_to_comments_and_questions_are_recorded_for_the_documents_they_change(app, make_user):
    maria, nikos = make_user("maria"), make_user("nikos")
    moderator = make_user("mod", role="moderator")
    question = ask(maria, visibility="network")
    reply = answer(nikos, question)
    question_uri, answer_uri = uri_of(QUESTION_TYPE, question.id), uri_of(ANSWER_TYPE, reply.id)
    pending_uris()

    remark = commit(qa.comment(nikos, "Σχόλιο στην ερώτηση.", question=question))
    assert pending_uris() == {question_uri}
    on_answer = commit(qa.comment(maria, "Σχόλιο στην απάντηση.", answer=reply))
    # The question is indexed again too: its last activity is its search document's date.
    assert pending_uris() == {answer_uri, question_uri}
    commit(moderation.hide(moderator, "comment", remark.id, "Εκτός θέματος."))
    assert pending_uris() == {question_uri}
    commit(moderation.hide(moderator, "comment", on_answer.id, "Εκτός θέματος."))
    commit(moderation.restore(moderator, "comment", on_answer.id))
    assert pending_uris() == {answer_uri}

    edit_question(maria, question, "internal")
    assert pending_uris() == {question_uri, answer_uri}, "the answer shares its question's visibility"
    commit(moderation.hide(moderator, "question", question.id, "Διπλή ανάρτηση."))
    assert pending_uris() == {question_uri, answer_uri}
    commit(moderation.restore(moderator, "question", question.id))
    assert pending_uris() == {question_uri, answer_uri}


# Communities -------------------------------------------------------------------------------------

def test_a_network_community_travels_as_a_group(app, base, make_user, browse):
    moderator = make_user("mod", role="moderator")
    community = commit(communities.create_community(moderator, "Πολιτική Προστασία", "Σχέδια **έκτακτης** ανάγκης.",
                                                    "network"))
    commit(communities.join(make_user("member"), community))
    first = document(COMMUNITY_TYPE, community.id)
    assert first == document(COMMUNITY_TYPE, community.id)
    assert first["id"] == uri_of(COMMUNITY_TYPE, community.id) == f"{base}/communities/{community.id}"
    assert first["type"] == "Group" and first["name"] == "Πολιτική Προστασία" and first["knet:visibility"] == "network"
    assert "<strong>έκτακτης</strong>" in first["content"]
    assert first["source"]["content"] == "Σχέδια **έκτακτης** ανάγκης."
    assert first["knet:slug"] == community.slug and first["url"] == f"{base}/communities/{quote(community.slug)}"
    assert browse(moderator).get(first["url"].removeprefix(base)).status_code == 200
    assert "member" not in text_of(first), "its members stay home"

    commit(communities.update_community(moderator, community, "Πολιτική Προστασία", "Σχέδια και ασκήσεις.", "network"))
    assert document(COMMUNITY_TYPE, community.id) != first
    commit(communities.update_community(moderator, community, "Πολιτική Προστασία", "Σχέδια και ασκήσεις.", "internal"))
    assert document(COMMUNITY_TYPE, community.id) is None
    private = commit(communities.create_community(moderator, "Ομάδα του Δήμου", "Εσωτερική.", "internal"))
    assert document(COMMUNITY_TYPE, private.id) is None and document(COMMUNITY_TYPE, 999_999) is None


def test_a_script_in_a_community_description_comes_out_sanitised(app, make_user):
    moderator = make_user("mod", role="moderator")
    community = commit(communities.create_community(moderator, "Ασφάλεια πληροφοριών", XSS, "public"))
    assert_safe(document(COMMUNITY_TYPE, community.id)["content"])


# Courses -----------------------------------------------------------------------------------------

def make_course(trainer, visibility: str = "network", description: str = "Οι **βασικές** διαδικασίες.",
                publish: bool = True):
    course = courses.create_course(trainer, CourseInput(
        title="Δημόσιες συμβάσεις", summary="Τα βασικά των προμηθειών.", description=description, language="el",
        visibility=visibility, tags=["Προμήθειες"]))
    module = structure.add_module(trainer, course, "Εισαγωγή")
    structure.add_lesson(trainer, module, "Μάθημα 1", "Το κείμενο του μαθήματος.")
    quiz = structure.add_quiz(trainer, module, "Τεστ", "Απαντήστε.", pass_percent=50)
    structure.add_question(trainer, quiz, QuizQuestion(
        kind="single", prompt="Ποιο είναι το όριο της απευθείας ανάθεσης;", feedback="Άρθρο 118.",
        options=[OptionInput("30.000 €", True, "Σωστά."), OptionInput("300.000 €", False, "Όχι.")]))
    if publish:
        versions.publish(trainer, course, "Πρώτη έκδοση")
    return commit(course)


def test_a_published_course_travels_as_its_outline_without_quizzes_drafts_or_learners(app, base, make_user):
    trainer, learner = make_user("tina", role="trainer"), make_user("lena", role="reader")
    course = make_course(trainer)
    first = document(COURSE_TYPE, course.id)
    assert first == document(COURSE_TYPE, course.id)
    assert first["id"] == uri_of(COURSE_TYPE, course.id) == first["url"] == f"{base}/learning/courses/{course.id}"
    assert first["type"] == "Article" and first["knet:kind"] == "course" and first["name"] == "Δημόσιες συμβάσεις"
    assert first["knet:visibility"] == "network" and first["summary"] == "Τα βασικά των προμηθειών."
    assert "<strong>βασικές</strong>" in first["content"] and tags_of(first) == ["Προμήθειες"]
    assert (first["knet:language"], first["knet:licence"]) == ("el", "CC-BY-4.0")
    assert first["knet:modules"] == [{"name": "Εισαγωγή", "items": [{"kind": "lesson", "name": "Μάθημα 1"},
                                                                    {"kind": "quiz", "name": "Τεστ"}]}]
    for secret in ("απευθείας ανάθεσης", "30.000", "Άρθρο 118", "Σωστά"):
        assert secret not in text_of(first), "a quiz's questions and answers stay home"

    progress.enrol(learner, course)
    db.session.commit()
    assert document(COURSE_TYPE, course.id) == first, "enrolments stay home"

    structure.rename_module(trainer, course.modules[0], "Πρόχειρη ενότητα")
    structure.add_lesson(trainer, course.modules[0], "Πρόχειρο μάθημα", "Ακόμα γράφεται.")
    commit(course)
    assert document(COURSE_TYPE, course.id) == first, "a draft is not published"
    commit(versions.publish(trainer, course, "Δεύτερη έκδοση"))
    second = document(COURSE_TYPE, course.id)
    assert second != first and second["knet:modules"][0]["name"] == "Πρόχειρη ενότητα"
    assert second["knet:modules"][0]["items"][-1] == {"kind": "lesson", "name": "Πρόχειρο μάθημα"}


def test_courses_that_may_not_leave_give_none(app, make_user):
    trainer = make_user("tina", role="trainer")
    draft, internal = make_course(trainer, publish=False), make_course(trainer, "internal")
    private, archived, narrowed = make_course(trainer, "private"), make_course(trainer), make_course(trainer)
    commit(courses.set_state(trainer, archived, "archived"))
    commit(courses.update_course(trainer, narrowed, CourseInput(title="Δημόσιες συμβάσεις", visibility="internal")))
    for course in (draft, internal, private, archived, narrowed):
        assert document(COURSE_TYPE, course.id) is None, course.visibility
    assert document(COURSE_TYPE, 999_999) is None


def test_a_script_in_a_course_description_comes_out_sanitised(app, make_user):
    course = make_course(make_user("tina", role="trainer"), "public", description=XSS)
    assert_safe(document(COURSE_TYPE, course.id)["content"])


# People ------------------------------------------------------------------------------------------

@pytest.fixture
def maria(make_user):
    """Maria, with what the directory says about her (contact details included) and a profile for the network."""
    finance = Department(dn="ou=finance,dc=test", name="Διεύθυνση Οικονομικών")
    tenders = Department(dn="ou=tenders,ou=finance,dc=test", name="Γραφείο Διαγωνισμών", parent=finance)
    maria = named(make_user, "maria", "Μαρία Παπαδοπούλου")
    maria.title, maria.department = "Προϊσταμένη", tenders
    maria.email, maria.phone = "maria@dimos.example.gr", "+30 210 555 0199"
    db.session.commit()
    people.update_profile(maria, maria, ProfileInput(about="Ηλεκτρονικοί διαγωνισμοί.\nΕΣΗΔΗΣ και ΚΗΜΔΗΣ.",
                                                     languages=["el", "fr"], skills=["Προμήθειες", "ΕΣΗΔΗΣ"],
                                                     visibility="network"))
    return commit(maria)


def test_a_network_profile_travels_without_contact_details(app, base, maria):
    first = document(PERSON, maria.id)
    assert first == document(PERSON, maria.id)
    assert first["id"] == uri_of(PERSON, maria.id) == first["url"] == f"{base}/people/maria"
    assert first["type"] == "Person" and first["name"] == "Μαρία Παπαδοπούλου" and first["knet:visibility"] == "network"
    assert first["summary"] == "Προϊσταμένη, Διεύθυνση Οικονομικών › Γραφείο Διαγωνισμών"
    assert first["content"] == "<p>Ηλεκτρονικοί διαγωνισμοί.<br>\nΕΣΗΔΗΣ και ΚΗΜΔΗΣ.</p>"
    assert tags_of(first) == ["ΕΣΗΔΗΣ", "Προμήθειες"] and first["knet:languages"] == ["el", "fr"]
    assert set(first) <= BUILDER_KEYS | {"knet:languages"}
    for secret in ("maria@", "dimos.example", "555 0199", "pbkdf2", "editor"):
        assert secret not in text_of(first)

    people.update_profile(maria, maria, ProfileInput(about="Μόνο ΕΣΗΔΗΣ.", languages=["el"], skills=["ΕΣΗΔΗΣ"],
                                                     visibility="network"))
    db.session.commit()
    assert document(PERSON, maria.id) != first
    moved = document(PERSON, maria.id)
    maria.department.name = "Γραφείο Συμβάσεων"
    db.session.commit()
    assert document(PERSON, maria.id)["summary"].endswith("Γραφείο Συμβάσεων") and document(PERSON, maria.id) != moved


def test_profiles_that_may_not_leave_give_none(app, make_user, maria):
    assert document(PERSON, make_user("nikos").id) is None, "a profile is internal unless its person chooses"
    maria.active = False
    db.session.commit()
    assert document(PERSON, maria.id) is None, "someone who left"
    maria.active = True
    people.update_profile(maria, maria, ProfileInput(visibility="internal"))
    db.session.commit()
    assert document(PERSON, maria.id) is None
    assert document(PERSON, 999_999) is None


def test_a_script_in_a_profile_comes_out_as_text(app, make_user):
    nikos = make_user("nikos")
    people.update_profile(nikos, nikos, ProfileInput(about=XSS, visibility="network"))
    db.session.commit()
    found = document(PERSON, nikos.id)
    assert_safe(found["content"])
    assert "&lt;script&gt;" in found["content"], "what a person typed is shown, not run"
