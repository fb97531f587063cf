"""Courses, their working copy, published versions and learners' progress (learning.courses,
structure, versions, progress)."""
from __future__ import annotations

import threading

import pytest
from flask_babel import force_locale

from auth.models import User
from knet.db import db
from knet.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from learning import courses, progress, structure, versions
from learning.courses import CourseInput
from learning.models import Course, Enrolment
from learning.structure import OptionInput, QuestionInput


def test_only_trainers_create_courses_and_only_the_course_trainers_edit(make_user, trainer, make_course):
    with pytest.raises(Forbidden):
        courses.create_course(make_user("eddie", role="editor"), CourseInput(title="Κάτι"))
    with pytest.raises(Unauthorized):
        courses.create_course(None, CourseInput(title="Κάτι"))
    course = make_course(trainer)
    assert course.trainers == [trainer] and course.state == "published" and course.published_version == 1
    other_trainer, admin = make_user("otto", role="trainer"), make_user("ada", role="admin")
    with pytest.raises(Forbidden):
        structure.add_module(other_trainer, course, "Δεύτερη ενότητα")
    structure.add_module(admin, course, "Δεύτερη ενότητα")
    courses.update_course(trainer, course, CourseInput(title=course.title, trainers=["tina", "otto"]))
    structure.add_module(other_trainer, course, "Τρίτη ενότητα")
    assert [m.title for m in course.modules] == ["Εισαγωγή", "Δεύτερη ενότητα", "Τρίτη ενότητα"]


@pytest.mark.parametrize("fields, field", [
    ({"title": "ab"}, "title"), ({"title": "x" * 201}, "title"), ({"language": "fr"}, "language"),
    ({"visibility": "everyone"}, "visibility"), ({"licence": "GPL"}, "licence"),
    ({"estimated_minutes": -5}, "estimated_minutes"), ({"estimated_minutes": "90"}, "estimated_minutes"),
    ({"tags": ["a,b"]}, "tags"), ({"tags": "gis"}, "tags"), ({"trainers": ["nobody"]}, "trainers"),
    ({"trainers": ["eddie"]}, "trainers"), ({"community_uri": "javascript:alert(1)"}, "community_uri"),
    ({"title": "Τίτλος\x00"}, "title"), ({"prerequisites": ["1"]}, "prerequisites"),
])
def test_bad_course_fields_are_refused_with_the_field_named(make_user, trainer, fields, field):
    make_user("eddie", role="editor")
    with pytest.raises(Invalid) as refused:
        courses.create_course(trainer, CourseInput(**{"title": "Ένα μάθημα", **fields}))
    assert refused.value.extra["field"] == field


def test_tags_are_folded_into_one(trainer):
    course = courses.create_course(trainer, CourseInput(title="GIS", tags=["Προμήθειες", "ΠΡΟΜΗΘΕΙΕΣ", "προμηθειες"]))
    assert [t.name for t in course.tags] == ["Προμήθειες"]


def test_prerequisites_cannot_go_round_in_a_circle(trainer, make_course):
    first = make_course(trainer, "Πρώτο μάθημα")
    second = make_course(trainer, "Δεύτερο μάθημα", prerequisites=[first.id])
    with pytest.raises(Invalid, match="κύκλο"):
        courses.update_course(trainer, first, CourseInput(title=first.title, prerequisites=[second.id]))
    with pytest.raises(Invalid):
        courses.update_course(trainer, first, CourseInput(title=first.title, prerequisites=[first.id]))


def test_a_draft_is_seen_only_by_its_editors(make_user, trainer, make_course):
    draft = make_course(trainer, publish=False)
    reader = make_user("rita", role="reader")
    with pytest.raises(NotFound):
        courses.get_course(reader, draft.id)
    assert courses.get_course(trainer, draft.id) is draft
    with pytest.raises(NotFound):
        progress.enrol(reader, draft)


def test_publishing_needs_content_and_quizzes_need_questions(trainer):
    course = courses.create_course(trainer, CourseInput(title="Κενό μάθημα"))
    with pytest.raises(Invalid, match="τουλάχιστον μία ενότητα"):
        versions.publish(trainer, course)
    module = structure.add_module(trainer, course, "Ενότητα")
    structure.add_quiz(trainer, module, "Άδειο τεστ")
    with pytest.raises(Invalid, match="δεν έχει ακόμη ερωτήσεις"):
        versions.publish(trainer, course)


@pytest.mark.parametrize("data, field", [
    (QuestionInput(kind="single", prompt="Ποιο;", options=[OptionInput("α", True), OptionInput("β", True)]), "options"),
    (QuestionInput(kind="single", prompt="Ποιο;", options=[OptionInput("α", True)]), "options"),
    (QuestionInput(kind="multiple", prompt="Ποια;", options=[OptionInput("α"), OptionInput("β")]), "options"),
    (QuestionInput(kind="numeric", prompt="Πόσα;", number=float("nan")), "number"),
    (QuestionInput(kind="numeric", prompt="Πόσα;", number=3, tolerance=-1), "tolerance"),
    (QuestionInput(kind="essay", prompt="Γράψε"), "kind"),
    (QuestionInput(kind="truefalse", prompt="   "), "prompt"),
])
def test_bad_quiz_questions_are_refused(trainer, make_course, data, field):
    course = make_course(trainer, publish=False)
    quiz = course.modules[0].items[-1]
    with pytest.raises(Invalid) as refused:
        structure.add_question(trainer, quiz, data)
    assert refused.value.extra["field"] == field


def test_editing_after_publishing_makes_a_new_version_and_progress_carries_over(make_user, trainer, make_course):
    course = make_course(trainer)
    learner = make_user("lena", role="reader")
    progress.enrol(learner, course)
    first_lesson, second_lesson = course.modules[0].items[0], course.modules[0].items[1]
    progress.open_item(learner, course, first_lesson.key)
    db.session.commit()

    structure.update_lesson(trainer, second_lesson, "Μάθημα 2 (νέο)", "Νέο κείμενο.")
    structure.add_lesson(trainer, course.modules[0], "Μάθημα 3", "Ακόμη ένα.")
    assert course.has_unpublished_changes
    # Learners still read version 1 until the trainer publishes.
    assert progress.find_item(course, second_lesson.key)["title"] == "Μάθημα 2"
    versions.publish(trainer, course, "Δεύτερη έκδοση")
    db.session.commit()

    steps = progress.outline(course, progress.enrolment_of(learner, course)).steps
    assert [(s.item["title"], s.done) for s in steps] == [
        ("Μάθημα 1", True), ("Μάθημα 2 (νέο)", False), ("Τεστ", False), ("Μάθημα 3", False)]
    changes = versions.compare(versions.get_version(course, 1).snapshot, versions.get_version(course, 2).snapshot)
    assert {(c.what, c.title) for c in changes} == {("renamed", "Μάθημα 2 (νέο)"), ("changed", "Μάθημα 2 (νέο)"),
                                                    ("added", "Μάθημα 3")}
    changed = next(c for c in changes if c.what == "changed")
    assert (changed.before, changed.after) == ("Το κείμενο του μαθήματος 2.", "Νέο κείμενο.")


def test_publishing_again_without_a_change_is_refused(trainer, make_course):
    course = make_course(trainer)
    with pytest.raises(Conflict, match="Τίποτα δεν άλλαξε από την έκδοση 1"):
        versions.publish(trainer, course, "Ξανά")
    db.session.rollback()
    structure.rename_module(trainer, course.modules[0], "Εισαγωγή στις συμβάσεις")
    assert versions.publish(trainer, course).number == 2


def test_a_quiz_change_reads_in_the_reader_language(trainer, make_course):
    course = make_course(trainer)
    quiz = course.modules[0].items[-1]
    structure.update_quiz(trainer, quiz, quiz.title, pass_percent=80, max_attempts=0)
    versions.publish(trainer, course)
    old, new = versions.get_version(course, 1).snapshot, versions.get_version(course, 2).snapshot
    for language, expected, unexpected in [
            ("el", ["Βάση επιτυχίας: 80%", "Προσπάθειες: απεριόριστες", "[x] Σωστό"], ["Pass"]),
            ("en", ["Pass mark: 80%", "Attempts: unlimited", "[x] True"], ["Σωστό"])]:
        with force_locale(language):
            changed = next(c for c in versions.compare(old, new) if c.what == "changed")
            assert all(text in changed.after for text in expected), (language, changed.after)
            assert not any(text in changed.after + changed.before for text in unexpected)


def test_resume_where_you_left_off(make_user, trainer, make_course):
    course = make_course(trainer)
    learner = make_user("lena", role="reader")
    enrolment, new = progress.enrol(learner, course)
    assert new and progress.enrol(learner, course) == (enrolment, False)
    first = course.modules[0].items[0].key
    assert progress.resume_key(course, enrolment) == first
    second = course.modules[0].items[1].key
    progress.open_item(learner, course, second)
    assert progress.resume_key(course, enrolment) == second
    assert progress.outline(course, enrolment).percent == 33


def test_enrolment_needs_a_published_course_and_its_prerequisites(make_user, trainer, make_course):
    basics = make_course(trainer, "Βασικά")
    advanced = make_course(trainer, "Προχωρημένα", prerequisites=[basics.id])
    learner = make_user("lena", role="reader")
    with pytest.raises(Conflict, match="Βασικά"):
        progress.enrol(learner, advanced)
    courses.set_state(trainer, basics, "archived")
    with pytest.raises(Conflict):
        progress.enrol(learner, basics)


def test_lessons_of_a_course_one_is_not_enrolled_in_cannot_be_opened(make_user, trainer, make_course):
    course = make_course(trainer)
    learner = make_user("lena", role="reader")
    with pytest.raises(Conflict):
        progress.open_item(learner, course, course.modules[0].items[0].key)
    progress.enrol(learner, course)
    with pytest.raises(NotFound):
        progress.open_item(learner, course, "no-such-key")


def test_a_course_is_complete_when_every_lesson_is_read_and_every_quiz_passed(make_user, trainer, make_course):
    course = make_course(trainer)
    learner = make_user("lena", role="reader")
    enrolment, _ = progress.enrol(learner, course)
    lessons = [i for i in course.modules[0].items if i.kind == "lesson"]
    quiz = next(i for i in course.modules[0].items if i.kind == "quiz")
    for lesson in lessons:
        progress.open_item(learner, course, lesson.key)
    assert enrolment.completed_at is None
    progress.record_quiz(enrolment, quiz.key, 40, passed=False)
    assert enrolment.completed_at is None
    progress.record_quiz(enrolment, quiz.key, 100, passed=True)
    assert enrolment.completed_at is not None
    assert progress.outline(course, enrolment).complete


def test_a_refused_change_leaves_the_course_as_it_was(make_user, trainer, make_course):
    course = make_course(trainer)
    with pytest.raises(Invalid, match="τουλάχιστον έναν εκπαιδευτή"):
        courses.update_course(trainer, course, CourseInput(title="Νέος τίτλος", trainers=[]))
    with pytest.raises(Invalid):
        courses.update_course(trainer, course, CourseInput(title="Νέος τίτλος", prerequisites=[999]))
    assert course.title == "Δημόσιες συμβάσεις για αρχάριους" and course.trainers == [trainer]


def test_enrolling_twice_at_the_same_moment_makes_one_enrolment(app, make_user, trainer, make_course):
    """A double click on "Enrol": both requests succeed, one enrolment exists."""
    course_id = make_course(trainer).id
    learner_id = make_user("lena", role="reader").id
    results, barrier = [], threading.Barrier(2)

    def enrol() -> None:
        with app.app_context():
            barrier.wait()
            course, learner = db.session.get(Course, course_id), db.session.get(User, learner_id)
            results.append(progress.enrol(learner, course)[1])
            db.session.commit()

    threads = [threading.Thread(target=enrol) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    assert db.session.scalar(db.select(db.func.count(Enrolment.id))) == 1


def test_a_private_course_is_its_trainers_own_even_for_administrators(make_user, trainer, make_course):
    private = make_course(trainer, visibility="private")
    admin = make_user("ada", role="admin")
    with pytest.raises(NotFound):
        courses.get_course(admin, private.id)
    with pytest.raises(Forbidden):
        structure.add_module(admin, private, "Κάτι")
    internal = make_course(trainer, "Εσωτερικό μάθημα")
    assert courses.may_edit(admin, internal)


def test_moving_things_up_and_down_keeps_every_one_of_them(trainer, make_course):
    course = make_course(trainer, publish=False)
    module = course.modules[0]
    second = structure.add_module(trainer, course, "Δεύτερο κεφάλαιο")
    first_lesson, second_lesson, quiz = module.items
    structure.move_item(trainer, second_lesson, -1)
    structure.move_module(trainer, second, -1)
    structure.move_question(trainer, quiz.questions[1], -1)
    db.session.commit()
    db.session.expire_all()
    assert [m.title for m in course.modules] == ["Δεύτερο κεφάλαιο", "Εισαγωγή"]
    assert [i.title for i in course.modules[1].items] == ["Μάθημα 2", "Μάθημα 1", "Τεστ"]
    assert [q.kind for q in course.modules[1].items[2].questions] == ["truefalse", "single"]
    structure.move_item(trainer, course.modules[1].items[0], -1)  # already first: nothing moves
    assert [i.title for i in course.modules[1].items] == ["Μάθημα 2", "Μάθημα 1", "Τεστ"]
