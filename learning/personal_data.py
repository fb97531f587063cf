"""What learning keeps about a person (knet.personal_data): their enrolments with their progress, quiz
attempts and SCORM states, their certificates, and the courses they created or teach.

On erasure the learning records go (enrolments, progress, attempts, SCORM states, certificates): they are
about the person alone and nobody else's work rests on them, so a certificate's address then finds
nothing. The courses they created or teach stay, their trainer shown as "former staff", and are sent to
peers again.
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import delete, or_, select

from auth.models import User
from knet import content, personal_data
from knet.content import iso
from knet.db import db
from learning.courses import COURSE_TYPE, course_uri
from learning.models import Certificate, Course, Enrolment, Progress, QuizAttempt, ScormState, course_trainers


def init_app(app: Flask) -> None:
    personal_data.register(app, "learning", export=export, erase=erase)


def export(person: User) -> dict:
    enrolments = list(db.session.scalars(select(Enrolment).where(Enrolment.user_id == person.id)
                                         .order_by(Enrolment.id)))
    return {
        "enrolments": [_enrolment(enrolment) for enrolment in enrolments],
        "certificates": [{"id": c.id, "recipient_name": c.recipient_name, "recipient_email": c.recipient_email,
                          "course_title": c.course_title, "course_version": c.course_version,
                          "issued_at": iso(c.issued_at), "revoked_at": iso(c.revoked_at),
                          "revoked_reason": c.revoked_reason}
                         for c in db.session.scalars(select(Certificate).where(Certificate.user_id == person.id)
                                                     .order_by(Certificate.issued_at))],
        "courses_created_or_taught": [{"uri": course_uri(course.id), "title": course.title,
                                       "created_by_me": course.created_by_id == person.id}
                                      for course in _courses(person)],
    }


def _enrolment(enrolment: Enrolment) -> dict:
    progress = db.session.scalars(select(Progress).where(Progress.enrolment_id == enrolment.id)
                                  .order_by(Progress.item_key))
    attempts = db.session.scalars(select(QuizAttempt).where(QuizAttempt.enrolment_id == enrolment.id)
                                  .order_by(QuizAttempt.id))
    scorm = db.session.scalars(select(ScormState).where(ScormState.enrolment_id == enrolment.id)
                               .order_by(ScormState.item_key))
    return {
        "course": course_uri(enrolment.course_id), "course_title": enrolment.course.title,
        "source": enrolment.source, "enrolled_at": iso(enrolment.enrolled_at),
        "completed_at": iso(enrolment.completed_at),
        "progress": [{"item": p.item_key, "viewed_at": iso(p.viewed_at), "passed_at": iso(p.passed_at),
                      "best_percent": p.best_percent} for p in progress],
        "quiz_attempts": [{"quiz": a.quiz_key, "number": a.number, "course_version": a.version,
                           "answers": a.answers, "percent": a.percent, "passed": a.passed,
                           "submitted_at": iso(a.submitted_at)} for a in attempts],
        "scorm": [{"item": s.item_key, "completion_status": s.completion_status,
                   "success_status": s.success_status, "score_raw": s.score_raw, "location": s.location,
                   "total_seconds": s.total_seconds, "updated_at": iso(s.updated_at)} for s in scorm],
    }


def _courses(person: User) -> list[Course]:
    taught = select(course_trainers.c.course_id).where(course_trainers.c.user_id == person.id)
    return list(db.session.scalars(select(Course).where(or_(Course.created_by_id == person.id,
                                                            Course.id.in_(taught))).order_by(Course.id)))


def erase(person: User) -> None:
    for course in _courses(person):
        content.changed(COURSE_TYPE, course.id, course_uri(course.id))
    mine = select(Enrolment.id).where(Enrolment.user_id == person.id)
    for model in (Progress, QuizAttempt, ScormState):
        db.session.execute(delete(model).where(model.enrolment_id.in_(mine)))
    db.session.execute(delete(Enrolment).where(Enrolment.user_id == person.id))
    db.session.execute(delete(Certificate).where(Certificate.user_id == person.id))
