"""/api/v1/courses, /lessons, /quizzes and /certificates as an API client sees them: the documented fields,
who may do what, bad input answered with a sentence, and never a quiz's answers before submitting."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from knet import jobs
from knet.db import db
from learning import certificates, courses, progress, structure, versions
from tests.qa.test_api import assert_problem
from tests.openapi import documented
from tests.xss import XSS_FILES, dangers

COURSE_FIELDS = {"id", "title", "summary", "language", "estimated_minutes", "visibility", "state", "version", "tags",
                 "trainers", "community", "standing", "uri", "url"}
DETAIL_FIELDS = COURSE_FIELDS | {"description", "html", "licence", "working_copy", "may_edit", "prerequisites",
                                 "resume", "certificate", "created", "updated", "modules"}
ITEM_FIELDS = {"key", "kind", "title", "html", "done", "attachments", "page", "url"}
QUIZ_ITEM_FIELDS = ITEM_FIELDS | {"pass_percent", "max_attempts", "question_count"}
PROGRESS_FIELDS = {"course", "version", "enrolled", "source", "enrolled_at", "completed", "completed_at", "done",
                   "total", "percent", "resume", "certificate", "steps", "url"}
STEP_FIELDS = {"key", "kind", "title", "module", "module_title", "number", "done"}
QUIZ_FIELDS = {"key", "title", "html", "course", "version", "pass_percent", "max_attempts", "attempts_used",
               "attempts_left", "may_submit", "best_percent", "passed", "questions", "attempts"}
ATTEMPT_FIELDS = {"number", "version", "percent", "passed", "submitted", "url"}
RESULT_FIELDS = {"quiz", "title", "number", "version", "percent", "passed", "pass_percent", "right", "total",
                 "unanswered", "attempts_left", "course_completed", "certificate", "submitted", "questions", "url"}
MARKED_FIELDS = {"key", "kind", "prompt_html", "answered", "right", "chosen", "right_answer", "feedback"}
LINK_FIELDS = {"id", "revoked", "url", "page", "assertion"}
CERTIFICATE_FIELDS = LINK_FIELDS | {"person", "course_title", "course_version", "course", "issued", "revoked_at",
                                    "revoked_reason"}
#: Every feedback text of the make_quiz course: none may reach a learner before they submit.
FEEDBACK = ("Το όριο ορίζει το άρθρο 118.", "Σωστά, για υπηρεσίες.", "Αυτό είναι όριο άλλης διαδικασίας.",
            "Αναρτώνται οι πράξεις.", "Ναι, πάντα.", "Ναι, κι αυτή.", "Όχι, είναι προσωπικό.",
            "Κεντρικό Ηλεκτρονικό Μητρώο Δημοσίων Συμβάσεων.", "Πέντε διά δύο.")
COMMUNITY = "http://127.0.0.1:5000/communities/1"


@pytest.fixture
def people(make_user):
    return {"tina": make_user("tina", role="trainer"), "otto": make_user("otto", role="trainer"),
            "lena": make_user("lena", role="reader"), "rea": make_user("rea", role="reader"),
            "root": make_user("root", role="admin")}


@pytest.fixture
def tokens(people, make_token):
    """Write tokens, with English answers (the sentences the tests look for)."""
    return {name: {**make_token(person, "write"), "Accept-Language": "en"} for name, person in people.items()}


def steps(course) -> list[dict]:
    return [step.item for step in progress.outline(course, None).steps]


def enrolled(client, tokens, name: str, course) -> None:
    assert client.post(f"/api/v1/courses/{course.id}/enrol", headers=tokens[name]).status_code == 201


def leaks(text: str) -> list[str]:
    """What of a quiz's answers a JSON text gives away: a feedback text, a field that tells what is right,
    or the numeric question's answer or tolerance."""
    found = [feedback for feedback in FEEDBACK if feedback in text]

    def walk(value) -> None:
        if isinstance(value, dict):
            found.extend(name for name in value if name in ("correct", "tolerance", "feedback", "right_answer"))
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)
        elif isinstance(value, float) and value in (2.5, 0.1):
            found.append(str(value))

    walk(json.loads(text))
    return found


# The catalogue -----------------------------------------------------------------------------------

@pytest.fixture
def shelf(people, make_course):
    tina, otto = people["tina"], people["otto"]
    made = {
        "public": make_course(tina, "Δημόσιες συμβάσεις για αρχάριους", visibility="public", estimated_minutes=90,
                              tags=["Προμήθειες"], community_uri=COMMUNITY),
        "internal": make_course(tina, "Εσωτερικός κανονισμός προσωπικού", estimated_minutes=30),
        "english": make_course(tina, "GIS for planners", language="en", estimated_minutes=45, lessons=1, quiz=False),
        "draft": make_course(tina, "Πρόχειρο μάθημα για την πυρασφάλεια", visibility="public", publish=False),
        "private": make_course(otto, "Ιδιωτικό μάθημα του Όττο", visibility="private"),
    }
    jobs.run_pending()
    return made


def titles(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["title"] for item in response.json["items"]]


def test_the_catalogue_lists_what_each_person_may_see_with_exactly_the_documented_fields(client, people, tokens,
                                                                                         shelf):
    response = client.get("/api/v1/courses", headers=tokens["lena"])
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.json
    assert titles(response) == ["GIS for planners", "Εσωτερικός κανονισμός προσωπικού",
                                "Δημόσιες συμβάσεις για αρχάριους"]  # newest first; no draft, no private course
    assert (data["total"], data["page"], data["next"], data["prev"]) == (3, 1, None, None)
    item = data["items"][-1]
    assert set(item) == COURSE_FIELDS
    assert (item["id"], item["summary"], item["language"], item["estimated_minutes"], item["visibility"],
            item["state"], item["version"], item["tags"], item["trainers"], item["community"], item["standing"]) == (
        shelf["public"].id, "Τα βασικά των προμηθειών.", "el", 90, "public", "published", 1, ["Προμήθειες"],
        ["tina"], COMMUNITY, None)
    assert item["uri"].endswith(f"/learning/courses/{shelf['public'].id}")
    assert client.get(item["url"], headers=tokens["lena"]).json["id"] == shelf["public"].id
    # Without a token, only public courses; the private course only for its trainer.
    assert titles(client.get("/api/v1/courses")) == ["Δημόσιες συμβάσεις για αρχάριους"]
    assert "Ιδιωτικό μάθημα του Όττο" in titles(client.get("/api/v1/courses", headers=tokens["otto"]))


@pytest.mark.parametrize("query, expected", [
    ("language=en", ["GIS for planners"]),
    ("tag=ΠΡΟΜΗΘΕΙΕΣ", ["Δημόσιες συμβάσεις για αρχάριους"]),
    (f"community={COMMUNITY}", ["Δημόσιες συμβάσεις για αρχάριους"]),
    ("duration=short&language=el", ["Εσωτερικός κανονισμός προσωπικού"]),
    ("order=title", ["GIS for planners", "Δημόσιες συμβάσεις για αρχάριους", "Εσωτερικός κανονισμός προσωπικού"]),
    ("q=κανονισμος", ["Εσωτερικός κανονισμός προσωπικού"]),
    ("q=πυρασφαλεια", []),
])
def test_the_catalogue_filters_like_its_page(client, tokens, shelf, query, expected):
    assert titles(client.get(f"/api/v1/courses?{query}", headers=tokens["lena"])) == expected


def test_the_catalogue_pages_with_next_and_prev_that_keep_the_filters(client, tokens, shelf):
    first = client.get("/api/v1/courses?order=title&per_page=2", headers=tokens["lena"]).json
    assert [i["title"] for i in first["items"]] == ["GIS for planners", "Δημόσιες συμβάσεις για αρχάριους"]
    assert first["total"] == 3 and first["prev"] is None and "order=title" in first["next"]
    second = client.get(first["next"], headers=tokens["lena"]).json
    assert [i["title"] for i in second["items"]] == ["Εσωτερικός κανονισμός προσωπικού"] and second["next"] is None
    assert client.get(second["prev"], headers=tokens["lena"]).json["items"] == first["items"]


@pytest.mark.parametrize("query, field", [("language=fr", "language"), ("duration=forever", "duration"),
                                          ("order=random", "order"), ("q=%00%01", "q"), ("q=" + "λ" * 201, "q"),
                                          ("page=0", None), ("per_page=1000", None), ("page=x", None)])
def test_odd_catalogue_queries_are_refused_with_a_sentence(client, tokens, shelf, query, field):
    problem = assert_problem(client.get(f"/api/v1/courses?{query}", headers=tokens["lena"]), 400)
    assert problem.get("field") == field


# Creating and changing a course ------------------------------------------------------------------

def test_a_trainer_creates_a_draft_that_only_the_trainers_see(client, people, tokens):
    response = client.post("/api/v1/courses", headers=tokens["tina"], json={
        "title": "  Αρχειοθέτηση εγγράφων  ", "summary": "Πώς   αρχειοθετούμε.", "description": "Με **τάξη**.",
        "language": "el", "visibility": "internal", "licence": "CC0-1.0", "tags": ["Αρχεία", "αρχεια"],
        "estimated_minutes": 40, "community": COMMUNITY, "trainers": ["tina", "otto"]})
    assert response.status_code == 201, response.json
    course = response.json
    assert set(course) == DETAIL_FIELDS and response.headers["Location"].endswith(f"/api/v1/courses/{course['id']}")
    assert (course["title"], course["summary"], course["html"], course["licence"], course["tags"],
            sorted(course["trainers"]), course["state"], course["version"], course["working_copy"],
            course["may_edit"], course["modules"]) == (
        "Αρχειοθέτηση εγγράφων", "Πώς αρχειοθετούμε.", "<p>Με <strong>τάξη</strong>.</p>", "CC0-1.0", ["Αρχεία"],
        ["otto", "tina"], "draft", None, True, True, [])
    assert client.get(response.headers["Location"], headers=tokens["otto"]).json["title"] == "Αρχειοθέτηση εγγράφων"
    assert_problem(client.get(response.headers["Location"], headers=tokens["lena"]), 404)
    assert_problem(client.get(response.headers["Location"]), 404)
    # Not in the catalogue until published.
    assert titles(client.get("/api/v1/courses", headers=tokens["tina"])) == []


def test_only_trainers_create_courses_and_only_with_a_write_token(client, people, tokens, make_token):
    body = {"title": "Ένα μάθημα"}
    assert "Trainer" in assert_problem(client.post("/api/v1/courses", headers=tokens["lena"], json=body), 403)["detail"]
    read_only = {**make_token(people["tina"], "read"), "Accept-Language": "en"}
    assert "--scope write" in assert_problem(client.post("/api/v1/courses", headers=read_only, json=body),
                                             403)["detail"]
    assert_problem(client.post("/api/v1/courses", json=body), 401)
    assert client.get("/api/v1/courses", headers=tokens["tina"]).json["total"] == 0


@pytest.mark.parametrize("body, field", [
    ({"title": "Ένα μάθημα", "colour": "red"}, "colour"),
    ({"summary": "Χωρίς τίτλο."}, "title"),
    ({"title": 5}, "title"),
    ({"title": "Μ"}, "title"),
    ({"title": "Ένα μάθημα", "tags": "Αρχεία"}, "tags"),
    ({"title": "Ένα μάθημα", "estimated_minutes": "40"}, "estimated_minutes"),
    ({"title": "Ένα μάθημα", "estimated_minutes": True}, "estimated_minutes"),
    ({"title": "Ένα μάθημα", "language": ["el"]}, "language"),
    ({"title": "Ένα μάθημα", "visibility": "everyone"}, "visibility"),
    ({"title": "Ένα μάθημα", "community": 1}, "community_uri"),
    ({"title": "Ένα μάθημα", "trainers": "otto"}, "trainers"),
    ({"title": "Ένα μάθημα", "trainers": ["lena"]}, "trainers"),
    ({"title": "Ένα μάθημα", "prerequisites": [2**31]}, "prerequisites"),
    ({"title": "Ένα μάθημα", "prerequisites": ["1"]}, "prerequisites"),
    ({"title": "Ένα μάθημα", "description": "a\x00b"}, "description"),
])
def test_bad_course_fields_are_refused_with_a_sentence_naming_the_field(client, tokens, body, field):
    problem = assert_problem(client.post("/api/v1/courses", headers=tokens["tina"], json=body), 400)
    assert problem["field"] == field
    assert client.get("/api/v1/courses", headers=tokens["tina"]).json["total"] == 0


@pytest.mark.parametrize("data", [b"{", b"[]", b'"title"'])
def test_a_body_that_is_no_json_object_is_refused(client, tokens, data):
    assert_problem(client.post("/api/v1/courses", headers={**tokens["tina"], "Content-Type": "application/json"},
                               data=data), 400)


def test_the_trainers_patch_the_working_copy_and_learners_read_the_published_version(client, people, tokens,
                                                                                      make_course):
    course = make_course(people["tina"], "Δημόσιες συμβάσεις", visibility="internal")
    response = client.patch(f"/api/v1/courses/{course.id}", headers=tokens["tina"],
                            json={"title": "Δημόσιες συμβάσεις, νέα έκδοση", "tags": ["ΕΣΗΔΗΣ"]})
    assert response.status_code == 200, response.json
    assert (response.json["title"], response.json["tags"], response.json["working_copy"]) == (
        "Δημόσιες συμβάσεις, νέα έκδοση", ["ΕΣΗΔΗΣ"], True)
    assert response.json["summary"] == "Τα βασικά των προμηθειών."  # fields left out stay as they were
    # Learners read the published version until the next one is published.
    assert client.get(f"/api/v1/courses/{course.id}", headers=tokens["lena"]).json["title"] == "Δημόσιες συμβάσεις"
    assert client.get(f"/api/v1/courses/{course.id}?draft=1",
                      headers=tokens["tina"]).json["title"] == "Δημόσιες συμβάσεις, νέα έκδοση"
    assert client.get(f"/api/v1/courses/{course.id}", headers=tokens["tina"]).json["working_copy"] is False
    # An administrator may change it too.
    assert client.patch(f"/api/v1/courses/{course.id}", headers=tokens["root"],
                        json={"estimated_minutes": 20}).json["estimated_minutes"] == 20


def test_nobody_else_changes_a_course_or_reads_its_working_copy(client, people, tokens, make_token, make_course):
    course = make_course(people["tina"], "Δημόσιες συμβάσεις", visibility="internal")
    private = make_course(people["otto"], "Ιδιωτικό μάθημα του Όττο", visibility="private")
    change = {"title": "Κάτι άλλο εντελώς"}
    for name in ("otto", "lena"):
        problem = assert_problem(client.patch(f"/api/v1/courses/{course.id}", headers=tokens[name], json=change), 403)
        assert "trainers" in problem["detail"]
        assert_problem(client.get(f"/api/v1/courses/{course.id}?draft=1", headers=tokens[name]), 403)
    read_only = {**make_token(people["tina"], "read"), "Accept-Language": "en"}
    assert_problem(client.patch(f"/api/v1/courses/{course.id}", headers=read_only, json=change), 403)
    assert_problem(client.patch(f"/api/v1/courses/{private.id}", headers=tokens["tina"], json=change), 404)
    assert_problem(client.get(f"/api/v1/courses/{private.id}", headers=tokens["root"]), 404)
    assert_problem(client.get(f"/api/v1/courses/{course.id}?draft=perhaps", headers=tokens["tina"]), 400)
    assert_problem(client.patch(f"/api/v1/courses/{course.id}", headers=tokens["tina"], json={"id": 3}), 400)
    for address in (f"/api/v1/courses/{2**31}", f"/api/v1/courses/{2**63}", f"/api/v1/courses/{2**31}/progress"):
        assert_problem(client.get(address, headers=tokens["tina"]), 404)
    assert_problem(client.patch(f"/api/v1/courses/{2**31}", headers=tokens["tina"], json=change), 404)
    assert_problem(client.post(f"/api/v1/courses/{2**31}/enrol", headers=tokens["lena"]), 404)
    db.session.refresh(course)
    assert course.title == "Δημόσιες συμβάσεις"


# A course's outline ------------------------------------------------------------------------------

def test_a_course_lists_its_modules_lessons_and_quizzes_without_any_answer(client, people, tokens, make_quiz):
    made = make_quiz(people["tina"])
    response = client.get(f"/api/v1/courses/{made.course.id}", headers=tokens["lena"])
    course = response.json
    assert set(course) == DETAIL_FIELDS and course["working_copy"] is False and course["may_edit"] is False
    (module,) = course["modules"]
    assert module["title"] == "Εισαγωγή"
    lesson, quiz = module["items"]
    assert set(lesson) == ITEM_FIELDS and set(quiz) == QUIZ_ITEM_FIELDS
    assert (lesson["kind"], lesson["title"], lesson["html"], lesson["done"], lesson["attachments"]) == (
        "lesson", "Μάθημα 1", "<p>Το κείμενο του μαθήματος 1.</p>", False, [])
    assert lesson["url"] == f"/api/v1/lessons/{lesson['key']}/complete"
    assert lesson["page"] == f"/learning/courses/{made.course.id}/steps/{lesson['key']}"
    assert (quiz["key"], quiz["pass_percent"], quiz["max_attempts"], quiz["question_count"], quiz["url"]) == (
        made.quiz, 75, 0, 4, f"/api/v1/quizzes/{made.quiz}")
    assert leaks(response.get_data(as_text=True)) == []
    assert not set(made.options.values()) & set(re.findall(r"[0-9a-f]{16}", response.get_data(as_text=True)))
    # Nor does the trainers' working copy put the questions in the outline.
    assert leaks(client.get(f"/api/v1/courses/{made.course.id}?draft=1", headers=tokens["tina"])
                 .get_data(as_text=True)) == []


# Enrolling and progress --------------------------------------------------------------------------

def test_enrolling_is_201_then_200_and_answers_with_the_progress(client, people, tokens, make_course):
    course = make_course(people["tina"], visibility="internal")
    first = client.post(f"/api/v1/courses/{course.id}/enrol", headers=tokens["lena"])
    assert first.status_code == 201 and first.headers["Location"].endswith(f"/api/v1/courses/{course.id}/progress")
    data = first.json
    assert set(data) == PROGRESS_FIELDS and set(data["steps"][0]) == STEP_FIELDS
    keys = [item["key"] for item in steps(course)]
    assert (data["course"], data["version"], data["enrolled"], data["source"], data["completed"], data["done"],
            data["total"], data["percent"], data["resume"], data["certificate"]) == (
        course.id, 1, True, "self", False, 0, 3, 0, keys[0], None)
    assert [(s["key"], s["kind"], s["number"], s["done"]) for s in data["steps"]] == [
        (keys[0], "lesson", 1, False), (keys[1], "lesson", 2, False), (keys[2], "quiz", 3, False)]
    again = client.post(f"/api/v1/courses/{course.id}/enrol", headers=tokens["lena"], json={})
    assert again.status_code == 200 and again.json["enrolled_at"] == data["enrolled_at"]
    assert client.get(f"/api/v1/courses/{course.id}", headers=tokens["lena"]).json["standing"] == "enrolled"
    # Someone not enrolled reads an outline with nothing done.
    other = client.get(f"/api/v1/courses/{course.id}/progress", headers=tokens["rea"]).json
    assert (other["enrolled"], other["done"], other["resume"], other["enrolled_at"]) == (False, 0, None, None)


def test_enrolling_is_refused_with_a_reason(client, people, tokens, make_course):
    first = make_course(people["tina"], "Τα πρώτα βήματα")
    then = make_course(people["tina"], "Τα επόμενα βήματα", prerequisites=[first.id])
    draft = make_course(people["tina"], "Ένα πρόχειρο", publish=False)
    private = make_course(people["otto"], "Ιδιωτικό μάθημα του Όττο", visibility="private")
    assert "Τα πρώτα βήματα" in assert_problem(client.post(f"/api/v1/courses/{then.id}/enrol",
                                                           headers=tokens["lena"]), 409)["detail"]
    assert "not open for enrolment" in assert_problem(client.post(f"/api/v1/courses/{draft.id}/enrol",
                                                                  headers=tokens["tina"]), 409)["detail"]
    assert_problem(client.post(f"/api/v1/courses/{private.id}/enrol", headers=tokens["lena"]), 404)
    assert_problem(client.post(f"/api/v1/courses/{first.id}/enrol"), 401)
    assert_problem(client.post(f"/api/v1/courses/{first.id}/enrol", headers=tokens["lena"], json={"now": 1}), 400)
    assert progress.enrolment_of(people["lena"], first) is None


def test_completing_lessons_by_key_moves_the_progress_on(client, people, tokens, make_course):
    course = make_course(people["tina"], lessons=2, quiz=False)
    first, second = (item["key"] for item in steps(course))
    assert "Enrol" in assert_problem(client.post(f"/api/v1/lessons/{first}/complete", headers=tokens["lena"]),
                                     409)["detail"]
    enrolled(client, tokens, "lena", course)
    response = client.post(f"/api/v1/lessons/{first}/complete", headers=tokens["lena"])
    assert response.status_code == 200 and set(response.json) == PROGRESS_FIELDS
    assert (response.json["done"], response.json["percent"], response.json["resume"]) == (1, 50, first)
    done = client.post(f"/api/v1/lessons/{second}/complete", headers=tokens["lena"]).json
    assert (done["done"], done["percent"], done["completed"], done["resume"]) == (2, 100, True, second)
    certificate = certificates.certificate_of(people["lena"], course)
    link = done["certificate"]
    assert (link["id"], link["revoked"], link["url"]) == (certificate.id, False,
                                                           f"/api/v1/certificates/{certificate.id}")
    assert link["page"].endswith(f"/learning/certificates/{certificate.id}")
    assert link["assertion"] == link["page"] + ".json"
    assert client.get(f"/api/v1/courses/{course.id}/progress", headers=tokens["lena"]).json == done
    # Completing again changes nothing.
    assert client.post(f"/api/v1/lessons/{first}/complete", headers=tokens["lena"]).json["done"] == 2


@pytest.mark.parametrize("key", ["zz", "0" * 33, "ABCDEF0123456789", "abc%20def", "0123456789abcdef"])
def test_keys_that_name_no_lesson_are_404(client, people, tokens, make_course, key):
    make_course(people["tina"])
    for address in (f"/api/v1/lessons/{key}/complete", f"/api/v1/quizzes/{key}/attempts"):
        assert_problem(client.post(address, headers=tokens["lena"], json={"answers": {}}
                                   if "quizzes" in address else None), 404)
    assert_problem(client.get(f"/api/v1/quizzes/{key}", headers=tokens["lena"]), 404)


def test_a_key_of_the_wrong_kind_or_of_an_unseen_course_is_404(client, people, tokens, make_course):
    course = make_course(people["tina"])
    private = make_course(people["otto"], "Ιδιωτικό μάθημα του Όττο", visibility="private")
    lesson, _second, quiz = (item["key"] for item in steps(course))
    enrolled(client, tokens, "lena", course)
    assert_problem(client.post(f"/api/v1/lessons/{quiz}/complete", headers=tokens["lena"]), 404)
    assert_problem(client.get(f"/api/v1/quizzes/{lesson}", headers=tokens["lena"]), 404)
    assert_problem(client.post(f"/api/v1/lessons/{steps(private)[0]['key']}/complete", headers=tokens["lena"]), 404)
    assert_problem(client.get(f"/api/v1/quizzes/{steps(private)[2]['key']}", headers=tokens["lena"]), 404)


def test_a_lesson_deleted_from_the_working_copy_is_found_until_a_version_without_it_is_published(
        client, app, people, tokens, make_course):
    course = make_course(people["tina"], lessons=2, quiz=False)
    first, second = (item["key"] for item in steps(course))
    enrolled(client, tokens, "lena", course)
    structure.delete_item(people["tina"], course.modules[0].items[1])
    added = structure.add_lesson(people["tina"], course.modules[0], "Νέο μάθημα", "Ακόμη δεν δημοσιεύτηκε.")
    db.session.commit()
    assert client.post(f"/api/v1/lessons/{second}/complete", headers=tokens["lena"]).json["done"] == 1
    # A lesson not yet published is no step of the course.
    assert_problem(client.post(f"/api/v1/lessons/{added.key}/complete", headers=tokens["lena"]), 404)
    with app.test_request_context():
        assert progress.course_of_item(people["lena"], second, "lesson").id == course.id
    versions.publish(people["tina"], course)
    db.session.commit()
    assert_problem(client.post(f"/api/v1/lessons/{second}/complete", headers=tokens["lena"]), 404)
    assert client.post(f"/api/v1/lessons/{added.key}/complete", headers=tokens["lena"]).status_code == 200
    assert client.post(f"/api/v1/lessons/{first}/complete", headers=tokens["lena"]).json["completed"] is True


# Quizzes -----------------------------------------------------------------------------------------

def test_a_learner_reads_a_quiz_without_its_answers_then_submits_and_reads_what_was_wrong(client, people, tokens,
                                                                                         make_quiz):
    made = make_quiz(people["tina"], max_attempts=3)
    assert "Enrol" in assert_problem(client.get(f"/api/v1/quizzes/{made.quiz}", headers=tokens["lena"]),
                                     409)["detail"]
    enrolled(client, tokens, "lena", made.course)
    response = client.get(f"/api/v1/quizzes/{made.quiz}", headers=tokens["lena"])
    quiz = response.json
    assert set(quiz) == QUIZ_FIELDS
    assert (quiz["title"], quiz["html"], quiz["course"], quiz["version"], quiz["pass_percent"], quiz["max_attempts"],
            quiz["attempts_used"], quiz["attempts_left"], quiz["may_submit"], quiz["best_percent"], quiz["passed"]) == (
        "Τεστ προμηθειών", "<p>Απαντήστε σε όλες.</p>", made.course.id, 1, 75, 3, 0, 3, True, None, False)
    questions = {q["kind"]: q for q in quiz["questions"]}
    assert [set(q) for q in quiz["questions"]] == [{"key", "kind", "prompt_html", "options"}] * 4
    assert questions["single"]["options"] == [{"key": made.options["30.000 €"], "text": "30.000 €"},
                                              {"key": made.options["300.000 €"], "text": "300.000 €"}]
    assert [o["key"] for o in questions["truefalse"]["options"]] == ["true", "false"]
    assert questions["numeric"]["options"] == []
    assert leaks(response.get_data(as_text=True)) == []
    before = client.get(quiz["attempts"], headers=tokens["lena"])
    assert before.json == {"items": []} and leaks(before.get_data(as_text=True)) == []

    wrong = {made.questions["single"]: [made.options["300.000 €"]], made.questions["truefalse"]: ["true"],
             made.questions["numeric"]: 3}
    submitted = client.post(quiz["attempts"], headers=tokens["lena"], json={"answers": wrong})
    assert submitted.status_code == 201, submitted.json
    result = submitted.json
    assert leaks(submitted.get_data(as_text=True))  # after submitting, what was right and why
    assert set(result) == RESULT_FIELDS and submitted.headers["Location"].endswith(
        f"/api/v1/quizzes/{made.quiz}/attempts/1")
    assert (result["number"], result["percent"], result["passed"], result["right"], result["total"],
            result["unanswered"], result["attempts_left"], result["course_completed"], result["certificate"]) == (
        1, 25, False, 1, 4, 1, 2, False, None)
    marked = {q["kind"]: q for q in result["questions"]}
    assert all(set(q) == MARKED_FIELDS for q in result["questions"])
    assert marked["single"]["chosen"] == ["300.000 €"] and marked["single"]["right_answer"] == ["30.000 €"]
    assert marked["single"]["feedback"] == ["Το όριο ορίζει το άρθρο 118.", "Αυτό είναι όριο άλλης διαδικασίας."]
    assert (marked["multiple"]["answered"], marked["multiple"]["right"]) == (False, False)
    assert (marked["truefalse"]["right"], marked["truefalse"]["right_answer"]) == (True, None)
    assert marked["numeric"]["chosen"] == ["3"] and marked["numeric"]["right_answer"] == ["2.5 ± 0.1"]
    assert client.get(submitted.headers["Location"], headers=tokens["lena"]).json == result
    assert client.get(quiz["attempts"], headers=tokens["lena"]).json["items"] == [
        {"number": 1, "version": 1, "percent": 25, "passed": False, "submitted": result["submitted"],
         "url": f"/api/v1/quizzes/{made.quiz}/attempts/1"}]
    assert set(client.get(quiz["attempts"], headers=tokens["lena"]).json["items"][0]) == ATTEMPT_FIELDS

    # Passing the quiz, after the lesson, completes the course and gives its certificate.
    client.post(f"/api/v1/lessons/{steps(made.course)[0]['key']}/complete", headers=tokens["lena"])
    passed = client.post(quiz["attempts"], headers=tokens["lena"], json={"answers": made.right_answers()}).json
    assert (passed["percent"], passed["passed"], passed["course_completed"]) == (100, True, True)
    assert set(passed["certificate"]) == LINK_FIELDS
    assert client.get(passed["certificate"]["url"]).json["course_title"] == "Προμήθειες στην πράξη"
    assert_problem(client.get(f"/api/v1/quizzes/{made.quiz}/attempts/3", headers=tokens["lena"]), 404)
    assert_problem(client.get(f"/api/v1/quizzes/{made.quiz}/attempts/{2**31}", headers=tokens["lena"]), 404)
    # Another learner sees none of them.
    enrolled(client, tokens, "rea", made.course)
    assert client.get(quiz["attempts"], headers=tokens["rea"]).json == {"items": []}
    assert_problem(client.get(f"/api/v1/quizzes/{made.quiz}/attempts/1", headers=tokens["rea"]), 404)


def test_after_the_last_attempt_another_is_409(client, people, tokens, make_quiz):
    made = make_quiz(people["tina"], max_attempts=1)
    enrolled(client, tokens, "lena", made.course)
    address = f"/api/v1/quizzes/{made.quiz}/attempts"
    assert client.post(address, headers=tokens["lena"], json={"answers": {}}).json["attempts_left"] == 0
    problem = assert_problem(client.post(address, headers=tokens["lena"], json={"answers": made.right_answers()}), 409)
    assert "attempt" in problem["detail"] and "Τεστ προμηθειών" in problem["detail"]
    assert len(client.get(address, headers=tokens["lena"]).json["items"]) == 1
    assert client.get(f"/api/v1/quizzes/{made.quiz}", headers=tokens["lena"]).json["may_submit"] is False


def test_answers_that_are_not_the_quizs_are_400_with_a_reason(client, people, tokens, make_quiz, make_token):
    made = make_quiz(people["tina"])
    other = make_quiz(people["tina"], "Άλλο τεστ")
    enrolled(client, tokens, "lena", made.course)
    address = f"/api/v1/quizzes/{made.quiz}/attempts"
    for body in ({"answers": {other.questions["single"]: [other.options["30.000 €"]]}},
                 {"answers": {made.questions["single"]: [other.options["30.000 €"]]}},
                 {"answers": {made.questions["single"]: made.options["30.000 €"]}},
                 {"answers": {made.questions["numeric"]: "δύο"}},
                 {"answers": {made.questions["multiple"]: [made.options["Σύμβαση"]], "x": 1}},
                 {"answers": [made.options["30.000 €"]]},
                 {"answers": {}, "score": 100}, {}):
        assert_problem(client.post(address, headers=tokens["lena"], json=body), 400)
    assert "no question" in assert_problem(client.post(address, headers=tokens["lena"], json={
        "answers": {other.questions["single"]: []}}), 400)["detail"]
    read_only = {**make_token(people["lena"], "read"), "Accept-Language": "en"}
    assert_problem(client.post(address, headers=read_only, json={"answers": {}}), 403)
    assert client.get(address, headers=tokens["lena"]).json == {"items": []}


# Certificates ------------------------------------------------------------------------------------

def test_anyone_checks_a_certificate_and_sees_when_it_was_revoked(client, people, tokens, make_course,
                                                                  complete_course):
    course = make_course(people["tina"], "Δημόσιες συμβάσεις", visibility="internal")
    certificate = complete_course(people["lena"], course)
    response = client.get(f"/api/v1/certificates/{certificate.id}")
    assert response.status_code == 200
    data = response.json
    assert set(data) == CERTIFICATE_FIELDS
    assert (data["id"], data["person"], data["course_title"], data["course_version"], data["revoked"],
            data["revoked_at"], data["revoked_reason"], data["course"]) == (
        certificate.id, "lena", "Δημόσιες συμβάσεις", 1, False, None, None, None)  # internal: not for strangers
    assert data["page"].endswith(f"/learning/certificates/{certificate.id}")
    assert data["assertion"] == data["page"] + ".json"
    assert client.get(f"/api/v1/certificates/{certificate.id}",
                      headers=tokens["rea"]).json["course"] == f"/api/v1/courses/{course.id}"
    assert "lena@" not in response.get_data(as_text=True)
    certificates.revoke(people["root"], certificate, "Αντιγραφή στο τεστ.")
    db.session.commit()
    revoked = client.get(f"/api/v1/certificates/{certificate.id}").json
    assert (revoked["revoked"], revoked["revoked_reason"]) == (True, "Αντιγραφή στο τεστ.") and revoked["revoked_at"]


@pytest.mark.parametrize("certificate_id", ["nope", "x" * 33, "a.b", "%2e%2e"])
def test_unknown_certificates_are_404_with_a_sentence(client, certificate_id):
    assert_problem(client.get(f"/api/v1/certificates/{certificate_id}", headers={"Accept-Language": "en"}), 404)


# Nothing from the XSS corpus runs ----------------------------------------------------------------

def test_xss_payloads_in_course_texts_stay_text_and_the_html_is_sanitised(client, people, tokens, corpus):
    payloads = []
    for name in XSS_FILES:
        entries = json.loads((Path(corpus) / "xss" / name).read_text(encoding="utf-8"))
        payloads += [entry["payload"] for entry in entries[:12]]
    made = 0
    for number, payload in enumerate(payloads):
        title = f"Μάθημα {number}: {payload}"[:courses.MAX_TITLE]
        response = client.post("/api/v1/courses", headers=tokens["tina"], json={
            "title": title, "summary": payload[:500], "description": payload, "visibility": "public"})
        if response.status_code != 201:  # refused with a reason (control characters…), never a 500
            assert_problem(response, (400, 413), sentence=False)
            continue
        made += 1
        course = courses.get_course(people["tina"], response.json["id"])
        module = structure.add_module(people["tina"], course, "Ενότητα")
        structure.add_lesson(people["tina"], module, "Μάθημα", payload)
        versions.publish(people["tina"], course)
        db.session.commit()
        shown = client.get(f"/api/v1/courses/{course.id}", headers=tokens["lena"])
        assert shown.mimetype == "application/json"  # never a page a browser would run
        data = shown.json
        assert (data["title"], data["description"]) == (title.strip(), payload)
        assert dangers(data["html"]) == [], payload
        assert dangers(data["modules"][0]["items"][0]["html"]) == [], payload
    assert made >= len(payloads) // 2


# The OpenAPI document ----------------------------------------------------------------------------

def test_openapi_describes_every_learning_rule_and_its_schemas(client, app):
    spec = documented(client, app, "learning_api")
    assert len([rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("learning_api.")]) == 12
    described = spec["components"]["schemas"]
    assert set(described["Course"]["properties"]) == COURSE_FIELDS
    assert set(described["CourseDetail"]["properties"]) | COURSE_FIELDS == DETAIL_FIELDS
    assert set(described["Item"]["properties"]) == QUIZ_ITEM_FIELDS
    assert set(described["Progress"]["properties"]) == PROGRESS_FIELDS
    assert set(described["Quiz"]["properties"]) == QUIZ_FIELDS
    assert set(described["Attempt"]["properties"]) == ATTEMPT_FIELDS
    assert set(described["AttemptResult"]["properties"]) == RESULT_FIELDS
    assert set(described["Certificate"]["properties"]) | LINK_FIELDS == CERTIFICATE_FIELDS
    assert "stable key" in spec["paths"]["/quizzes/{key}"]["parameters"][0]["description"]
