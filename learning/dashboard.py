"""The trainer's dashboard of a course: how many learners enrolled, began and completed it, how far
they got step by step, how they scored in its quizzes, which questions they most often get wrong,
and the same numbers as a CSV file.

Everything is counted against the newest published version (its steps, in reading order, and its
titles), by the stable keys progress is kept under, so progress made in earlier versions counts.
The words a learner's state is put in:

- **enrolled**: every enrolment in the course;
- **completed**: enrolments marked complete (every step of the version then newest done);
- **in progress**: enrolled, not completed, and began: viewed at least one lesson or answered at least
  one quiz of the newest version (a failed attempt counts: the learner has begun);
- **not started**: the rest of the enrolled.

A step is **done** when its lesson has been viewed, or its quiz passed. A quiz's **average best
score** is the average, over the learners who answered it, of each learner's best percent; the
course's is the average of every learner's best percent at every quiz they answered.
"""
from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, or_, select

from auth.models import User
from knet.db import db
from learning import quizzes, versions
from learning.courses import require_editor
from learning.models import Course, Enrolment, Progress, QuizAttempt

#: What a spreadsheet would read as a formula at the start of a cell (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Excel reads a UTF-8 file as UTF-8 (Greek intact) only when it starts with a byte-order mark.
BOM = "\ufeff"


@dataclass(frozen=True)
class StepStats:
    """A lesson or quiz of the newest version, and how many enrolled learners have it done."""

    #: Its place in reading order, from 1.
    number: int
    key: str
    #: "lesson" or "quiz".
    kind: str
    title: str
    module_title: str
    done: int
    #: `done` as a share of the enrolled, in percent (0 when nobody enrolled).
    percent: int


@dataclass(frozen=True)
class QuizSummary:
    """A quiz of the newest version: its item analysis (learning.quizzes) and its learners' best scores."""

    analysis: quizzes.QuizStats
    #: The average of each learner's best percent; None before the first attempt.
    average_best: float | None


@dataclass(frozen=True)
class CourseStats:
    course_id: int
    #: The newest published version's title, and its number (0: never published, every count is 0).
    title: str
    version: int
    enrolled: int
    not_started: int
    in_progress: int
    completed: int
    #: Every step of the newest version, in reading order.
    steps: tuple[StepStats, ...]
    #: Every quiz of the newest version, in reading order, its questions the most often wrong first.
    quizzes: tuple[QuizSummary, ...]
    #: The average of every learner's best percent at every quiz they answered; None before any attempt.
    average_best: float | None

    @property
    def published(self) -> bool:
        return self.version > 0


def course_stats(actor: User | None, course: Course) -> CourseStats:
    """For the course's trainers (and administrators): its learners and their progress, step by step
    and quiz by quiz (see the module for what each number counts)."""
    require_editor(actor, course)
    if course.published_version == 0:
        return CourseStats(course.id, course.title, 0, 0, 0, 0, 0, (), (), None)
    frozen = versions.get_version(course).snapshot
    items = versions.items_of(frozen)
    keys = [item["key"] for item in items]
    enrolled, completed = db.session.execute(
        select(func.count(Enrolment.id), func.count(Enrolment.completed_at))
        .where(Enrolment.course_id == course.id)).one()
    began = db.session.scalar(
        select(func.count(func.distinct(Progress.enrolment_id)))
        .join(Enrolment, Enrolment.id == Progress.enrolment_id)
        .where(Enrolment.course_id == course.id, Enrolment.completed_at.is_(None), Progress.item_key.in_(keys),
               or_(Progress.viewed_at.is_not(None), Progress.passed_at.is_not(None),
                   Progress.best_percent.is_not(None))))
    done = _done_by_step(course)
    steps = tuple(StepStats(number, item["key"], item["kind"], item["title"], item["module_title"],
                            done[item["kind"]].get(item["key"], 0),
                            _percent(done[item["kind"]].get(item["key"], 0), enrolled))
                  for number, item in enumerate(items, start=1))
    best = _best_percents(course, [item["key"] for item in items if item["kind"] == "quiz"])
    summaries = tuple(QuizSummary(stats, _average(best.get(stats.key, [])))
                      for stats in quizzes.item_analysis(actor, course))
    return CourseStats(course.id, frozen["title"], course.published_version, enrolled,
                       not_started=enrolled - completed - began, in_progress=began, completed=completed,
                       steps=steps, quizzes=summaries,
                       average_best=_average([percent for percents in best.values() for percent in percents]))


def _done_by_step(course: Course) -> dict[str, dict[str, int]]:
    """{"lesson": {key: learners who viewed it}, "quiz": {key: learners who passed it}}, in one query."""
    rows = db.session.execute(
        select(Progress.item_key, func.count(Progress.viewed_at), func.count(Progress.passed_at))
        .join(Enrolment, Enrolment.id == Progress.enrolment_id)
        .where(Enrolment.course_id == course.id).group_by(Progress.item_key))
    done: dict[str, dict[str, int]] = {"lesson": {}, "quiz": {}, "scorm": {}}
    for key, viewed, passed in rows:
        done["lesson"][key], done["quiz"][key] = viewed, passed
        done["scorm"][key] = viewed  # a SCORM lesson completed
    return done


def _best_percents(course: Course, quiz_keys: list[str]) -> dict[str, list[int]]:
    """{quiz key: each learner's best percent at it}, for the learners who answered it."""
    rows = db.session.execute(
        select(QuizAttempt.quiz_key, func.max(QuizAttempt.percent))
        .join(Enrolment, Enrolment.id == QuizAttempt.enrolment_id)
        .where(Enrolment.course_id == course.id, QuizAttempt.quiz_key.in_(quiz_keys))
        .group_by(QuizAttempt.enrolment_id, QuizAttempt.quiz_key))
    best: dict[str, list[int]] = defaultdict(list)
    for key, percent in rows:
        best[key].append(percent)
    return best


def _average(percents: list[int]) -> float | None:
    return round(sum(percents) / len(percents), 1) if percents else None


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


# The CSV export ----------------------------------------------------------------------------------

def csv_rows(stats: CourseStats) -> list[list[str | int | float]]:
    """The dashboard as rows for a spreadsheet: the course, then one section for the learners, the steps,
    the quizzes and their questions, each under its own heading row and separated by an empty row.
    Text that a spreadsheet would take for a formula is made harmless (see safe_cell)."""
    rows: list[list] = [[_("Course"), stats.title], [_("Version"), stats.version], []]
    rows += [[_("Learners"), _("Number")], [_("Enrolled learners"), stats.enrolled], [_("Not started yet"), stats.not_started],
             [_("In progress"), stats.in_progress], [_("Completed the course"), stats.completed],
             [_("Average best quiz score (%)"), _blank(stats.average_best)], []]
    rows.append([_("Step number"), _("Module"), _("Title"), _("Kind"), _("Learners who did it"),
                 _("Share of the enrolled (%)")])
    kinds = {"lesson": _("Lesson"), "quiz": _("Quiz"), "scorm": _("SCORM lesson")}
    rows += [[step.number, step.module_title, step.title, kinds[step.kind], step.done, step.percent]
             for step in stats.steps]
    rows += [[], [_("Quiz"), _("Learners who answered it"), _("Learners who passed it"), _("Attempts made"),
                  _("Average best score (%)"), _("Average score of all attempts (%)"), _("Attempts that passed (%)")]]
    rows += [[quiz.analysis.title, quiz.analysis.learners, quiz.analysis.learners_passed, quiz.analysis.attempts,
              _blank(quiz.average_best), _blank(quiz.analysis.average_percent), _blank(quiz.analysis.pass_rate)]
             for quiz in stats.quizzes]
    rows += [[], [_("Quiz"), _("Question"), _("Text"), _("Attempts made"), _("Wrong"), _("Unanswered"), _("Wrong (%)")]]
    rows += [[quiz.analysis.title, question.position, question_text(question), question.attempts, question.wrong,
              question.unanswered, question.wrong_percent]
             for quiz in stats.quizzes for question in quiz.analysis.questions]
    return [[safe_cell(cell) for cell in row] for row in rows]


def csv_text(stats: CourseStats) -> str:
    """The CSV file: comma-separated, with a byte-order mark so that spreadsheets read its Greek."""
    out = io.StringIO()
    csv.writer(out).writerows(csv_rows(stats))
    return BOM + out.getvalue()


def csv_filename(stats: CourseStats) -> str:
    """A file name from the course's title (letters of any script, digits and dashes)."""
    words = "-".join(re.findall(r"\w+", stats.title))[:80].strip("-_")
    return f"{words or stats.course_id}-{_('dashboard')}.csv"


def safe_cell(value: str | int | float) -> str | int | float:
    """A cell as written: text that starts like a formula gets a leading apostrophe, so it stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def question_text(question: quizzes.QuestionStats) -> str:
    """A question's prompt as plain text."""
    return " ".join(Markup(question.prompt_html).striptags().split())


def _blank(value: float | None) -> float | str:
    return "" if value is None else value
