"""The trainers' pages (learning/trainer_routes.py), driven through the test client like a browser:
forms posted with their CSRF token, each person in a client of their own."""
from __future__ import annotations

import io
import re

import pytest

from knet.db import db
from learning import courses, structure, versions
from learning.courses import CourseInput
from learning.models import Course, Item, Module, QuizQuestion
from learning.structure import OptionInput, QuestionInput
from tests import xss
from tests.forms import csrf_token
from tests.learning.test_attachments import pdf
from tests.xss import XSS_FILES, corpus_dir, dangers, quietly

NEW = "/learning/courses/new"




def text(response) -> str:
    return response.get_data(as_text=True)


def post(client, path: str, data: dict | None = None, page: str = "/learning/teaching"):
    """Post a form of this site, with the CSRF token of the person's session."""
    token = csrf_token(text(client.get(page)))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def course_fields(**fields) -> dict:
    return {"title": "Δημόσιες συμβάσεις", "summary": "Τα βασικά.", "description": "Για **αρχάριους**.",
            "language": "el", "visibility": "internal", "licence": "CC-BY-4.0", "tags": "προμήθειες, ΚΗΜΔΗΣ",
            "estimated_minutes": "90", "community_uri": "", "trainers": "", **fields}


def new_course(client, **fields) -> Course:
    response = post(client, NEW, course_fields(**fields), page=NEW)
    assert response.status_code == 302, text(response)
    course_id = int(re.search(r"/learning/courses/(\d+)/edit", response.location).group(1))
    return db.session.get(Course, course_id)


def edit_path(course) -> str:
    return f"/learning/courses/{course.id}/edit"


def add_module(client, course, title: str) -> Module:
    response = post(client, f"/learning/courses/{course.id}/modules", {"new-module-title": title})
    assert response.status_code == 302, text(response)
    db.session.expire_all()
    return db.session.get(Course, course.id).modules[-1]


def add_item(client, course, module, kind: str, title: str):
    key = f"module-{module.id}-new"
    return post(client, f"/learning/courses/{course.id}/modules/{module.id}/items",
                {f"{key}-title": title, f"{key}-kind": kind})


def added_item(client, course, module, kind: str, title: str) -> Item:
    response = add_item(client, course, module, kind, title)
    assert response.status_code == 302, text(response)
    item_id = int(re.search(r"/items/(\d+)/edit", response.location).group(1))
    return db.session.get(Item, item_id)


def options(*rows) -> dict:
    """The option rows of the question form: (text, right?, feedback) each."""
    data = {}
    for number, (option_text, right, feedback) in enumerate(rows):
        data[f"options-{number}-text"] = option_text
        data[f"options-{number}-feedback"] = feedback
        if right:
            data[f"options-{number}-correct"] = "y"
    return data


def question_path(course, quiz, question=None) -> str:
    base = f"/learning/courses/{course.id}/items/{quiz.id}/questions"
    return f"{base}/{question.id}/edit" if question else f"{base}/new"


def questions_of(quiz_id: int) -> list[QuizQuestion]:
    db.session.expire_all()
    return db.session.get(Item, quiz_id).questions


# The whole way: create, build, publish, change, publish again, compare ------------------------------

def test_a_trainer_builds_publishes_changes_and_compares_a_course(make_user, trainer, browse, make_course):
    make_user("otto", role="trainer")
    required = make_course(make_user("rita", role="trainer"), "Εισαγωγή στον δήμο")
    client = browse(trainer)
    form = text(client.get(NEW))
    assert "Εισαγωγή στον δήμο" in form and 'name="prerequisites"' in form

    course = new_course(client, trainers="otto", prerequisites=str(required.id))
    assert course.state == "draft" and course.estimated_minutes == 90
    assert {t.username for t in course.trainers} == {"tina", "otto"}
    assert [c.id for c in course.prerequisites] == [required.id]
    assert sorted(tag.name for tag in course.tags) == ["ΚΗΜΔΗΣ", "προμήθειες"]
    page = text(client.get(edit_path(course)))
    assert "Draft." in page and "No modules yet" in page and "Publish version 1" in page

    module = add_module(client, course, "Εισαγωγή")
    lesson = added_item(client, course, module, "lesson", "Τι είναι σύμβαση")
    lesson_path = f"/learning/courses/{course.id}/items/{lesson.id}/edit"
    assert lesson.kind == "lesson" and "Write its text" in text(client.get(lesson_path))
    response = post(client, lesson_path, {"title": "Τι είναι σύμβαση", "body": "Μια **συμφωνία**.\n\nΔεύτερη γραμμή."})
    assert response.status_code == 302 and response.location.endswith(f"{edit_path(course)}#item-{lesson.id}")
    quiz = added_item(client, course, module, "quiz", "Τεστ")
    assert quiz.kind == "quiz"
    quiz_path = f"/learning/courses/{course.id}/items/{quiz.id}/edit"
    response = post(client, quiz_path, {"title": "Τεστ", "introduction": "Απαντήστε.", "pass_percent": "80",
                                        "max_attempts": "3", "shuffle_options": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    quiz = db.session.get(Item, quiz.id)
    assert (quiz.pass_percent, quiz.max_attempts, quiz.shuffle_options, quiz.shuffle_questions) == (80, 3, True, False)

    asked = [
        {"kind": "single", "prompt": "Το όριο;", "feedback": "Άρθρο 118.",
         **options(("30.000 €", True, "Σωστά."), ("", False, ""), ("300.000 €", False, "Όχι."))},
        {"kind": "multiple", "prompt": "Τι αναρτάται;", **options(("Σύμβαση", True, ""), ("Απόφαση", True, ""),
                                                                   ("Σημείωμα", False, ""))},
        {"kind": "truefalse", "prompt": "Το ΚΗΜΔΗΣ είναι μητρώο.", "true_is_correct": "false"},
        {"kind": "numeric", "prompt": "Πόσο κάνει 5 / 2;", "number": "2,5", "tolerance": "0,1"},
    ]
    for data in asked:
        response = post(client, question_path(course, quiz), data, page=question_path(course, quiz))
        assert response.status_code == 302, text(response)
    single, multiple, truefalse, numeric = questions_of(quiz.id)
    assert [(o["text"], o["correct"], o["feedback"]) for o in single.options] == [
        ("30.000 €", True, "Σωστά."), ("300.000 €", False, "Όχι.")]  # the empty row is left out
    assert single.feedback == "Άρθρο 118." and [o["correct"] for o in multiple.options] == [True, True, False]
    assert [o["correct"] for o in truefalse.options] == [False, True]
    assert (numeric.number, numeric.tolerance) == (2.5, 0.1)
    quiz_page = text(client.get(quiz_path))
    assert "Question 4" in quiz_page and "Right answer: 2.5, give or take 0.1." in quiz_page
    assert "Right answer: false." in quiz_page

    # Editing a question keeps its options' keys, so learners' answers still map.
    keys = [o["key"] for o in single.options]
    edit_form = text(client.get(question_path(course, quiz, single)))
    assert 'value="30.000 €"' in edit_form and f'value="{keys[0]}"' in edit_form
    response = post(client, question_path(course, quiz, single), {
        "kind": "single", "prompt": "Ποιο είναι το όριο;", "options-0-key": keys[0], "options-1-key": keys[1],
        **options(("30.000 €", False, ""), ("300.000 €", True, ""))})
    assert response.status_code == 302
    assert [o["key"] for o in questions_of(quiz.id)[0].options] == keys

    response = post(client, f"/learning/courses/{course.id}/publish", {"publish-note": "Πρώτη έκδοση"})
    assert response.status_code == 302
    page = text(client.get(edit_path(course)))
    assert "Version 1 is published" in page and "No unpublished changes" in page and "Publish version 2" in page

    post(client, lesson_path, {"title": "Τι είναι σύμβαση", "body": "Μια **γραπτή** συμφωνία.\n\nΔεύτερη γραμμή."})
    post(client, f"/learning/courses/{course.id}/modules/{module.id}/rename", {f"module-{module.id}-title": "Αρχές"})
    added_item(client, course, module, "lesson", "Νέο μάθημα")
    page = text(client.get(edit_path(course)))
    assert "There are unpublished changes:" in page and "Module 1: Αρχές" in page
    assert post(client, f"/learning/courses/{course.id}/publish", {"publish-note": "Διορθώσεις"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Course, course.id).published_version == 2

    listing = text(client.get(f"/learning/courses/{course.id}/versions"))
    assert "Πρώτη έκδοση" in listing and "Διορθώσεις" in listing and "2 versions, newest first" in listing
    assert "tina" in listing
    compared = client.get(f"/learning/courses/{course.id}/versions/compare?from=1&to=2")
    page = text(compared)
    assert compared.status_code == 200
    assert "Lesson “Τι είναι σύμβαση” changed" in page and "Module “Εισαγωγή” renamed “Αρχές”" in page
    assert "Lesson “Νέο μάθημα” added" in page
    assert "<ins><span class=\"visually-hidden\">[added: </span>γραπτή" in page  # the line diff
    assert "Quiz “Τεστ”" not in page  # the quiz did not change


def test_the_outline_moves_renames_and_deletes_with_a_confirmation(trainer, browse, make_course):
    course = make_course(trainer, publish=False, lessons=2)
    client = browse(trainer)
    module = course.modules[0]
    first, second, quiz = module.items
    first_id = first.id
    response = post(client, f"/learning/courses/{course.id}/items/{second.id}/move", {"offset": "-1"})
    assert response.status_code == 302 and response.location.endswith(f"#item-{second.id}")
    db.session.expire_all()
    assert [i.title for i in db.session.get(Module, module.id).items] == ["Μάθημα 2", "Μάθημα 1", "Τεστ"]

    second_module = add_module(client, course, "Δεύτερη")
    response = post(client, f"/learning/courses/{course.id}/modules/{second_module.id}/move", {"offset": "-1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [m.title for m in db.session.get(Course, course.id).modules] == ["Δεύτερη", "Εισαγωγή"]

    question = quiz.questions[1]
    path = f"/learning/courses/{course.id}/items/{quiz.id}/questions/{question.id}"
    assert post(client, f"{path}/move", {"offset": "-1"}).status_code == 302
    assert questions_of(quiz.id)[0].id == question.id

    confirm = client.get(f"{path}/delete")
    assert confirm.status_code == 200 and "Delete the question" in text(confirm)
    assert len(questions_of(quiz.id)) == 2  # asking deletes nothing
    assert post(client, f"{path}/delete").status_code == 302
    assert len(questions_of(quiz.id)) == 1

    confirm = text(client.get(f"/learning/courses/{course.id}/items/{quiz.id}/delete"))
    assert "Delete the quiz “Τεστ”?" in confirm and "Its 1 question is deleted with it." in confirm
    assert post(client, f"/learning/courses/{course.id}/items/{quiz.id}/delete").status_code == 302
    confirm = text(client.get(f"/learning/courses/{course.id}/modules/{module.id}/delete"))
    assert "Delete the module “Εισαγωγή”?" in confirm and "Its 2 lessons and quizzes are deleted with it." in confirm
    response = post(client, f"/learning/courses/{course.id}/modules/{module.id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert [m.title for m in db.session.get(Course, course.id).modules] == ["Δεύτερη"]
    assert db.session.get(Item, first_id) is None


def test_a_lesson_page_attaches_and_removes_files(trainer, browse, built):
    course, module, _quiz = built
    lesson = module.items[0]
    client = browse(trainer)
    path = f"/learning/courses/{course.id}/items/{lesson.id}/edit"
    page = text(client.get(path))
    upload = f"/learning/courses/{course.id}/items/{lesson.id}/attachments"
    assert f'action="{upload}"' in page and 'enctype="multipart/form-data"' in page and "No files yet." in page
    response = client.post(upload, content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page), "next": path, "file": (io.BytesIO(pdf()), "Οδηγός.pdf")})
    assert response.status_code == 302 and response.location.endswith(path)
    page = text(client.get(path))
    assert "Οδηγός.pdf" in page and "No files yet." not in page
    remove = re.search(r'action="([^"]+/remove)"', page).group(1)
    response = client.post(remove, data={"csrf_token": csrf_token(page), "next": path})
    assert response.status_code == 302 and "No files yet." in text(client.get(path))


def test_archiving_and_bringing_back(trainer, browse, make_course):
    course = make_course(trainer)
    client = browse(trainer)
    path = f"/learning/courses/{course.id}/state"
    response = post(client, path, {"state-state": "archived"})
    assert response.status_code == 302
    page = text(client.get(edit_path(course)))
    assert "Archived." in page and "Bring it back to the catalogue" in page
    assert post(client, path, {"state-state": "published"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Course, course.id).state == "published"


def test_a_trainer_lists_the_courses_they_teach(make_user, trainer, browse, make_course):
    mine = make_course(trainer, "Το δικό μου")
    make_course(make_user("rita", role="trainer"), "Κάποιου άλλου", publish=False)
    page = text(browse(trainer).get("/learning/teaching"))
    assert "Το δικό μου" in page and "Κάποιου άλλου" not in page and edit_path(mine) in page
    admin_page = text(browse(make_user("ada", role="admin")).get("/learning/teaching"))
    assert "Το δικό μου" in admin_page and "Κάποιου άλλου" in admin_page


# Who may ------------------------------------------------------------------------------------------

def test_only_the_course_trainers_and_admins_reach_the_editing_pages(app, make_user, trainer, browse, make_course):
    course = make_course(trainer)
    quiz = course.modules[0].items[-1]
    question = quiz.questions[0]
    paths = [edit_path(course), f"/learning/courses/{course.id}/items/{quiz.id}/edit",
             question_path(course, quiz), question_path(course, quiz, question),
             f"/learning/courses/{course.id}/versions", f"/learning/courses/{course.id}/versions/compare",
             f"/learning/courses/{course.id}/modules/{course.modules[0].id}/delete"]
    reader, other = browse(make_user("rena", role="reader")), browse(make_user("otto", role="trainer"))
    for path in paths:
        for client in (reader, other):
            response = client.get(path)
            assert response.status_code == 403, path
            assert "Only the trainers of “Δημόσιες συμβάσεις για αρχάριους” may change it." in text(response)
        response = browse(None).get(path)
        assert response.status_code == 302 and "/login" in response.location
    admin = browse(make_user("ada", role="admin"))
    assert all(admin.get(path).status_code == 200 for path in paths)
    refused = post(other, f"/learning/courses/{course.id}/modules", {"new-module-title": "Δική μου"})
    assert refused.status_code == 403
    refused = post(reader, NEW, course_fields(), page="/")
    assert refused.status_code == 403 and "This needs the role “Trainer”" in text(refused)
    assert reader.get(NEW).status_code == 403 and reader.get("/learning/teaching").status_code == 403
    assert browse(None).get(NEW).status_code == 302


def test_a_draft_is_not_found_by_those_who_may_not_edit_it(make_user, trainer, browse, make_course):
    course = make_course(trainer, "Μυστικό προσχέδιο", publish=False)
    response = browse(make_user("otto", role="trainer")).get(edit_path(course))
    assert response.status_code == 404 and "Μυστικό" not in text(response)


# Bad input ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, sentence", [
    ({"title": "Τ" * 201}, "The title must have between 3 and 200 characters."),
    ({"estimated_minutes": "ενενήντα"}, "The estimated duration is a whole number of minutes"),
    ({"estimated_minutes": "99999999"}, "The estimated duration is a whole number of minutes"),
    ({"language": "fr"}, "“language” must be one of el, en."),
    ({"trainers": "nobody"}, "There is nobody with the username “nobody” on this node."),
    ({"community_uri": "javascript:alert(1)"}, "The community is given by its address."),
    ({"prerequisites": "abc"}, "Prerequisites are chosen from the list of courses."),
    ({"prerequisites": "999"}, "There is no course number 999, or you may not see it."),
    ({"tags": "a<b"}, "no commas, quotes or angle brackets"),
])
def test_a_refused_course_form_says_why_and_keeps_what_was_typed(trainer, browse, fields, sentence):
    response = post(browse(trainer), NEW, course_fields(summary="Κρατήστε με.", **fields), page=NEW)
    page = text(response)
    assert response.status_code == 400 and sentence in page, page
    assert "Κρατήστε με." in page and 'class="error"' in page
    assert db.session.query(Course).count() == 0


def test_a_refused_edit_of_a_course_keeps_the_course_as_it_was(trainer, browse, make_course):
    course = make_course(trainer)
    client = browse(trainer)
    response = post(client, edit_path(course), course_fields(title="Νέος τίτλος", trainers=""))
    assert response.status_code == 400 and "A course needs at least one trainer." in text(response)
    assert 'value="Νέος τίτλος"' in text(response)
    db.session.expire_all()
    assert db.session.get(Course, course.id).title == "Δημόσιες συμβάσεις για αρχάριους"


def test_a_description_is_previewed_without_saving(trainer, browse, make_course):
    course = make_course(trainer)
    response = post(browse(trainer), edit_path(course), course_fields(description="# Επικεφαλίδα", preview="1",
                                                                     trainers="tina"))
    assert response.status_code == 200 and "Επικεφαλίδα</h1>" in text(response)
    db.session.expire_all()
    assert db.session.get(Course, course.id).description == ""


@pytest.fixture
def built(trainer, make_course):
    course = make_course(trainer, publish=False)
    return course, course.modules[0], course.modules[0].items[-1]


@pytest.mark.parametrize("data, sentence", [
    ({"title": "", "pass_percent": "70"}, "The title must have between 1 and 200 characters."),
    ({"title": "Τεστ", "pass_percent": "εβδομήντα"}, "The pass mark is a percentage from 1 to 100."),
    ({"title": "Τεστ", "pass_percent": "150"}, "The pass mark is a percentage from 1 to 100."),
    ({"title": "Τεστ", "pass_percent": "70", "max_attempts": "-1"}, "The number of attempts is from 1 to 100"),
    ({"title": "Τεστ", "pass_percent": "70", "max_attempts": "2,5"}, "The number of attempts is from 1 to 100"),
])
def test_a_refused_quiz_form_says_why(trainer, browse, built, data, sentence):
    course, _module, quiz = built
    response = post(browse(trainer), f"/learning/courses/{course.id}/items/{quiz.id}/edit",
                    {"introduction": "Κρατήστε με.", **data})
    assert response.status_code == 400 and sentence in text(response)
    assert "Κρατήστε με." in text(response)


@pytest.mark.parametrize("data, sentence", [
    ({"kind": "single", **options(("Α", True, ""), ("Β", True, ""))},
     "A single-choice question needs exactly one right option."),
    ({"kind": "multiple", **options(("Α", False, ""), ("Β", False, ""))},
     "A multiple-choice question needs at least one right option."),
    ({"kind": "single", **options(("Α", True, ""))}, "A choice question needs from 2 to 10 options."),
    ({"kind": "essay", **options(("Α", True, ""), ("Β", False, ""))}, "A question is one of: single, multiple"),
    ({"kind": "numeric", "number": "δύο"}, "Write a number, such as 2,5 or 1500."),
    ({"kind": "numeric", "number": ""}, "Give the right answer, a number."),
    ({"kind": "numeric", "number": "2", "tolerance": "-1"}, "The tolerance cannot be negative."),
    ({"kind": "numeric", "number": "1e400"}, "Write a number, such as 2,5 or 1500."),
    ({"kind": "single", "prompt": "", **options(("Α", True, ""), ("Β", False, ""))}, "The question has no text."),
    ({"kind": "truefalse", "feedback": "Ω" * 2001}, "Feedback may have at most 2000 characters."),
])
def test_a_refused_question_says_why_and_keeps_the_options(trainer, browse, built, data, sentence):
    course, _module, quiz = built
    client = browse(trainer)
    before = len(questions_of(quiz.id))
    response = post(client, question_path(course, quiz), {"prompt": "Ερώτηση κράτησης;", **data},
                    page=question_path(course, quiz))
    page = text(response)
    assert response.status_code == 400 and sentence in page, page
    for key, value in data.items():
        if key.endswith("-text") or key == "prompt":
            assert f">{value}<" in page or f'value="{value}"' in page, value
    assert len(questions_of(quiz.id)) == before


def test_numbers_of_other_kinds_of_question_are_ignored(trainer, browse, built):
    course, _module, quiz = built
    path = question_path(course, quiz)
    response = post(browse(trainer), path, {"kind": "truefalse", "prompt": "Αληθές;", "number": "όχι αριθμός"},
                    page=path)
    assert response.status_code == 302
    assert questions_of(quiz.id)[-1].kind == "truefalse"


@pytest.mark.parametrize("path, data, status, sentence", [
    ("modules", {"new-module-title": "  "}, 400, "The title must have between 1 and 200 characters."),
    ("modules/{module}/rename", {"module-{module}-title": "Ω" * 201}, 400, "The title must have between 1 and 200"),
    ("modules/{module}/items", {"module-{module}-new-title": "", "module-{module}-new-kind": "lesson"}, 400,
     "The title must have between 1 and 200 characters."),
    ("modules/{module}/items", {"module-{module}-new-title": "Άσκηση", "module-{module}-new-kind": "essay"}, 400,
     "Add a lesson, a quiz or a SCORM package: press one of the buttons."),
    ("items/{lesson}/edit", {"title": "Μ" * 201, "body": "Κρατήστε με."}, 400,
     "The title must have between 1 and 200 characters."),
    ("items/{lesson}/edit", {"title": "Μάθημα", "body": "Κρατήστε\x00με."}, 400,
     "contains characters that cannot be stored"),
    ("modules/{module}/move", {"offset": "5"}, 400, "Move one place up or down."),
    ("items/{quiz}/move", {"offset": "ένα"}, 400, "Move one place up or down."),
    ("publish", {"publish-note": "Ν" * 501}, 400, "The note may have at most 500 characters."),
    ("state", {"state-state": "archived"}, 400, "Publish the course first."),
    ("state", {"state-state": "draft"}, 400, "A course is published (through “Publish”) or archived."),
    ("modules/999999/rename", {}, 404, "This course has no such module."),
    ("items/99999999999/move", {"offset": "1"}, 404, "This course has no such lesson or quiz."),
])
def test_refused_outline_changes_say_why(trainer, browse, built, path, data, status, sentence):
    course, module, quiz = built
    fill = {"module": module.id, "quiz": quiz.id, "lesson": module.items[0].id}
    response = post(browse(trainer), f"/learning/courses/{course.id}/" + path.format(**fill),
                    {key.format(**fill): value for key, value in data.items()})
    assert response.status_code == status and sentence in text(response), text(response)


def test_publishing_an_empty_course_or_an_empty_quiz_is_refused_on_the_editing_page(trainer, browse):
    client = browse(trainer)
    course = new_course(client)
    response = post(client, f"/learning/courses/{course.id}/publish", {"publish-note": "Κρατήστε με"})
    page = text(response)
    assert response.status_code == 400 and "Add at least one lesson or quiz before publishing." in page
    assert 'value="Κρατήστε με"' in page and "Nothing was changed." in page
    module = add_module(client, course, "Ενότητα")
    added_item(client, course, module, "quiz", "Άδειο τεστ")
    response = post(client, f"/learning/courses/{course.id}/publish")
    assert response.status_code == 400 and "The quiz “Άδειο τεστ” has no questions yet." in text(response)


def test_questions_belong_to_quizzes_only(trainer, browse, built):
    course, module, _quiz = built
    lesson = module.items[0]
    response = browse(trainer).get(f"/learning/courses/{course.id}/items/{lesson.id}/questions/new")
    assert response.status_code == 400 and "Questions belong to quizzes, not to lessons." in text(response)


@pytest.mark.parametrize("query, status, sentence", [
    ("from=abc&to=1", 400, "Versions are compared by their numbers"),
    ("from=1&to=-2", 400, "Versions are compared by their numbers"),
    ("from=1&to=9", 404, "This course has no published version 9."),
    ("from=0&to=1", 404, "This course has no published version 0."),
    ("from=1&to=99999999999999999999", 400, "Versions are compared by their numbers"),
])
def test_bad_version_numbers_are_refused(trainer, browse, make_course, query, status, sentence):
    course = make_course(trainer)
    response = browse(trainer).get(f"/learning/courses/{course.id}/versions/compare?{query}")
    assert response.status_code == status and sentence in text(response)


def test_an_unpublished_course_has_nothing_to_compare(trainer, browse, make_course):
    course = make_course(trainer, publish=False)
    client = browse(trainer)
    response = client.get(f"/learning/courses/{course.id}/versions/compare")
    assert response.status_code == 400 and "has not been published yet" in text(response)
    assert "has not been published yet" in text(client.get(f"/learning/courses/{course.id}/versions"))


def test_every_form_needs_its_csrf_token(trainer, browse, built):
    course, module, quiz = built
    client = browse(trainer)
    for path, data in [(NEW, course_fields()), (edit_path(course), course_fields()),
                       (f"/learning/courses/{course.id}/modules", {"new-module-title": "Χ"}),
                       (f"/learning/courses/{course.id}/items/{quiz.id}/edit", {"title": "Χ", "pass_percent": "5"}),
                       (question_path(course, quiz), {"kind": "truefalse", "prompt": "Χ"}),
                       (f"/learning/courses/{course.id}/modules/{module.id}/delete", {}),
                       (f"/learning/courses/{course.id}/publish", {})]:
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        assert "The form had expired or did not come from this site." in text(response)
    db.session.expire_all()
    assert db.session.get(Module, module.id) is not None and db.session.get(Course, course.id).published_version == 0


def test_pages_speak_greek(trainer, browse, built):
    course, _module, quiz = built
    client = browse(trainer, language="el")
    page = text(client.get(edit_path(course)))
    assert '<html lang="el">' in page
    response = post(client, question_path(course, quiz), {"kind": "numeric", "prompt": "Πόσο;", "number": "x"},
                    page=question_path(course, quiz))
    assert response.status_code == 400 and '<html lang="el">' in text(response)


# Nothing from the XSS corpus runs -----------------------------------------------------------------

XSS_CHUNK = 120
#: Lessons and questions per module and quiz (a module takes at most 50 steps, a quiz 100 questions).
PER_MODULE = 40


def _payloads(corpus) -> list[str]:
    return [payload for name in XSS_FILES for payload in xss.payloads(corpus, name)]


def _xss_chunks() -> list:
    total = len(_payloads(corpus_dir())) if (corpus_dir() / "xss").is_dir() else 1
    return [pytest.param(start, id=f"payloads-{start}") for start in range(0, total, XSS_CHUNK)]


@pytest.mark.corpus_pages
@pytest.mark.parametrize("start", _xss_chunks())
def test_nothing_from_the_xss_corpus_runs_on_the_editing_pages(app, trainer, browse, corpus, start):
    payloads = _payloads(corpus)[start:start + XSS_CHUNK]
    client = browse(trainer)
    course = courses.create_course(trainer, CourseInput(title="Μάθημα XSS"))
    db.session.commit()
    seen: list[str] = []
    for number, payload in enumerate(payloads):
        # Through the forms, as a trainer would type them: previewed, saved or refused, never run.
        response = post(client, NEW, course_fields(title=f"{number} {payload}"[:200], summary=payload[:500],
                                                   description=payload, tags="", preview="1"), page=NEW)
        assert response.status_code in (200, 400), payload
        assert dangers(text(response)) == [], payload
        if number % PER_MODULE == 0:
            module = quietly(lambda: structure.add_module(trainer, course, payload[:200])) \
                or quietly(lambda: structure.add_module(trainer, course, f"Ενότητα {number}"))
            quiz = quietly(lambda: structure.add_quiz(trainer, module, f"Τεστ {number}", payload)) \
                or quietly(lambda: structure.add_quiz(trainer, module, f"Τεστ {number}"))
        lesson = quietly(lambda: structure.add_lesson(trainer, module, f"{number} {payload}"[:200], payload))
        if lesson is not None:
            response = post(client, f"/learning/courses/{course.id}/items/{lesson.id}/edit",
                            {"title": lesson.title, "body": payload, "preview": "1"})
            assert response.status_code == 200 and dangers(text(response)) == [], payload
        quietly(lambda: structure.add_question(trainer, quiz, QuestionInput(
            kind="single", prompt=f"{number} {payload}", feedback=payload[:2000],
            options=[OptionInput(f"Α {payload}"[:500], True, payload[:2000]), OptionInput("Β")])))
    assert quietly(lambda: versions.publish(trainer, course, payloads[0][:500])) is not None
    for module in course.modules:
        for item in module.items:
            quietly(lambda: structure.update_lesson(trainer, item, item.title + " ·", payloads[-1] + "\n" + item.body)
                     if item.kind == "lesson" else None)
    assert quietly(lambda: versions.publish(trainer, course, payloads[1][:500])) is not None
    seen = [edit_path(course), f"/learning/courses/{course.id}/versions",
            f"/learning/courses/{course.id}/versions/compare?from=1&to=2"]
    for module in course.modules:
        seen.append(f"/learning/courses/{course.id}/modules/{module.id}/delete")
        for item in module.items:
            seen += [f"/learning/courses/{course.id}/items/{item.id}/edit",
                     f"/learning/courses/{course.id}/items/{item.id}/delete"]
            seen += [question_path(course, item, question) for question in item.questions]
    assert len(seen) > 2 * len(payloads)
    for path in seen:
        response = client.get(path)
        assert response.status_code == 200, path
        assert dangers(text(response)) == [], path
