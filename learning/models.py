"""Courses, their modules, lessons and quizzes, published versions, enrolments, progress, quiz
attempts, assignments and certificates.

A course is edited as a working copy (modules → items, an item being a lesson, a quiz or a SCORM
package). Publishing
freezes the working copy into a numbered `CourseVersion` (a JSON snapshot, answers included) which
learners read and are graded against. Every module, item, quiz question and option has a stable
`key` that survives edits, so a learner's progress carries from one version to the next.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.models import Department, User
from knet.db import db, utcnow

STATES = ("draft", "published", "archived")
ITEM_KINDS = ("lesson", "quiz", "scorm")
SCORM_VERSIONS = ("1.2", "2004")
QUESTION_KINDS = ("single", "multiple", "truefalse", "numeric")
ENROLMENT_SOURCES = ("self", "assignment")

course_trainers = Table(
    "learning_course_trainers", db.metadata,
    Column("course_id", ForeignKey("learning_courses.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)
course_tags = Table(
    "learning_course_tags", db.metadata,
    Column("course_id", ForeignKey("learning_courses.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("learning_tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)
course_prerequisites = Table(
    "learning_course_prerequisites", db.metadata,
    Column("course_id", ForeignKey("learning_courses.id", ondelete="CASCADE"), primary_key=True),
    Column("required_id", ForeignKey("learning_courses.id", ondelete="CASCADE"), primary_key=True, index=True),
    CheckConstraint("course_id <> required_id", name="not_itself"),
)


class CourseTag(db.Model):
    """A topic of courses; «Προμήθειες» and «προμηθειες» are one tag."""

    __tablename__ = "learning_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    #: The name folded (knet.search.analysis.fold): what makes two tags one.
    key: Mapped[str] = mapped_column(String(50), unique=True)


class Course(db.Model):
    __tablename__ = "learning_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    #: Markdown, and its sanitised HTML.
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="el")
    visibility: Mapped[str] = mapped_column(String(10), default="internal")
    licence: Mapped[str] = mapped_column(String(40), default="CC-BY-4.0")
    #: The community of practice it belongs to, by URI (communities live in `qa`, which this package does not import).
    community_uri: Mapped[str | None] = mapped_column(String(300))
    estimated_minutes: Mapped[int] = mapped_column(default=0)
    #: One of STATES.
    state: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    #: The number of the newest published version (0: never published).
    published_version: Mapped[int] = mapped_column(default=0)
    #: Whether the working copy differs from the newest published version.
    has_unpublished_changes: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    trainers: Mapped[list[User]] = relationship(secondary=course_trainers, order_by="User.display_name")
    tags: Mapped[list[CourseTag]] = relationship(secondary=course_tags, order_by="CourseTag.name")
    prerequisites: Mapped[list[Course]] = relationship(
        secondary=course_prerequisites, primaryjoin=lambda: Course.id == course_prerequisites.c.course_id,
        secondaryjoin=lambda: Course.id == course_prerequisites.c.required_id, order_by="Course.title")
    modules: Mapped[list[Module]] = relationship(back_populates="course", order_by="Module.position",
                                                 cascade="all, delete-orphan")


class Module(db.Model):
    __tablename__ = "learning_modules"
    __table_args__ = (UniqueConstraint("course_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("learning_courses.id", ondelete="CASCADE"), index=True)
    #: Stable across edits and versions.
    key: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))

    course: Mapped[Course] = relationship(back_populates="modules")
    items: Mapped[list[Item]] = relationship(back_populates="module", order_by="Item.position",
                                             cascade="all, delete-orphan")


class Item(db.Model):
    """A step of a module: a lesson to read, a quiz to pass, or a SCORM package to work through."""

    __tablename__ = "learning_items"
    __table_args__ = (UniqueConstraint("module_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("learning_modules.id", ondelete="CASCADE"), index=True)
    #: Stable across edits and versions: progress is recorded against it.
    key: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(default=0)
    #: One of ITEM_KINDS.
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    #: A lesson's text (a quiz's introduction), Markdown, and its sanitised HTML.
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    #: Quizzes: the share of points needed to pass, in percent.
    pass_percent: Mapped[int] = mapped_column(default=70)
    #: Quizzes: how many attempts a learner has (0: as many as they like).
    max_attempts: Mapped[int] = mapped_column(default=0)
    shuffle_questions: Mapped[bool] = mapped_column(default=False)
    shuffle_options: Mapped[bool] = mapped_column(default=False)
    #: SCORM lessons: the package uploaded last (earlier ones stay, for the versions that froze them).
    scorm_package_id: Mapped[int | None] = mapped_column(ForeignKey("learning_scorm_packages.id",
                                                                    ondelete="SET NULL"))

    module: Mapped[Module] = relationship(back_populates="items")
    scorm_package: Mapped[ScormPackage | None] = relationship()
    questions: Mapped[list[QuizQuestion]] = relationship(back_populates="quiz", order_by="QuizQuestion.position",
                                                         cascade="all, delete-orphan")
    #: Deleting a lesson leaves its files' rows (published versions still list them): the foreign key sets
    #: their item to NULL.
    attachments: Mapped[list[Attachment]] = relationship(back_populates="item", order_by="Attachment.filename",
                                                         cascade="save-update, merge", passive_deletes=True)


class QuizQuestion(db.Model):
    __tablename__ = "learning_quiz_questions"
    __table_args__ = (UniqueConstraint("quiz_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("learning_items.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(default=0)
    #: One of QUESTION_KINDS.
    kind: Mapped[str] = mapped_column(String(10))
    #: Markdown, and its sanitised HTML.
    prompt: Mapped[str] = mapped_column(Text)
    prompt_html: Mapped[str] = mapped_column(Text, default="")
    #: Choice questions: [{"key", "text", "correct", "feedback"}]; true/false has the two options "true" and "false".
    options: Mapped[list] = mapped_column(JSON, default=list)
    #: Numeric questions: the right answer and how far from it an answer may be.
    number: Mapped[float | None]
    tolerance: Mapped[float] = mapped_column(default=0.0)
    #: Shown after submitting: why the right answer is right.
    feedback: Mapped[str] = mapped_column(Text, default="")

    quiz: Mapped[Item] = relationship(back_populates="questions")


class Attachment(db.Model):
    """A file given with a lesson, kept once per content in the instance's media directory."""

    __tablename__ = "learning_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("learning_courses.id", ondelete="CASCADE"), index=True)
    #: The lesson in the working copy (None once removed from it; published versions may still list it).
    item_id: Mapped[int | None] = mapped_column(ForeignKey("learning_items.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    #: As found from the file's bytes, never as the upload claimed.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    #: SHA-256 of the bytes: the file's name in the media directory.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[Item | None] = relationship(back_populates="attachments")


class ScormPackage(db.Model):
    """A SCORM package (a ZIP) given as a lesson, checked on upload, kept once per content in the media
    directory, and served from the ZIP itself, never unpacked (learning.scorm_package, scorm_serving)."""

    __tablename__ = "learning_scorm_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("learning_courses.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    #: SHA-256 of the ZIP: its name in the media directory.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: One of SCORM_VERSIONS, from the manifest.
    version: Mapped[str] = mapped_column(String(4))
    #: The title of the manifest's organization.
    title: Mapped[str] = mapped_column(String(200))
    #: The file opened first, a path inside the ZIP, with the query its manifest gives it.
    launch: Mapped[str] = mapped_column(String(1000))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CourseVersion(db.Model):
    """A published state of a course, frozen: what learners read and are graded against."""

    __tablename__ = "learning_course_versions"
    __table_args__ = (UniqueConstraint("course_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("learning_courses.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    #: The course, its modules, items, questions (with their answers) and attachments, as published.
    snapshot: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    published_by: Mapped[User | None] = relationship()


class Enrolment(db.Model):
    __tablename__ = "learning_enrolments"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("learning_courses.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: One of ENROLMENT_SOURCES.
    source: Mapped[str] = mapped_column(String(12), default="self")
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Where to resume: the key of the item last opened.
    last_item_key: Mapped[str | None] = mapped_column(String(32))
    completed_at: Mapped[datetime | None]

    course: Mapped[Course] = relationship()
    user: Mapped[User] = relationship()


class Progress(db.Model):
    """A learner's state on one item, by its stable key: a lesson viewed, a quiz passed."""

    __tablename__ = "learning_progress"

    enrolment_id: Mapped[int] = mapped_column(ForeignKey("learning_enrolments.id", ondelete="CASCADE"),
                                              primary_key=True)
    item_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    viewed_at: Mapped[datetime | None]
    passed_at: Mapped[datetime | None]
    #: Quizzes: the best score so far, in percent.
    best_percent: Mapped[int | None]


class ScormState(db.Model):
    """What a SCORM lesson's content last reported for a learner (learning.scorm_runtime), so they resume
    where they stopped; learning_progress holds what counts for the course (completed, passed, score)."""

    __tablename__ = "learning_scorm_states"

    enrolment_id: Mapped[int] = mapped_column(ForeignKey("learning_enrolments.id", ondelete="CASCADE"),
                                              primary_key=True)
    item_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: One of SCORM_VERSIONS: the data model the values below come from.
    version: Mapped[str] = mapped_column(String(4))
    #: 1.2: cmi.core.lesson_status; 2004: cmi.completion_status.
    completion_status: Mapped[str] = mapped_column(String(20), default="not attempted")
    #: 2004: cmi.success_status ("passed", "failed", "unknown"); 1.2 tells it in lesson_status.
    success_status: Mapped[str] = mapped_column(String(10), default="unknown")
    score_raw: Mapped[float | None]
    score_min: Mapped[float | None]
    score_max: Mapped[float | None]
    #: 2004: cmi.score.scaled, from -1 to 1.
    score_scaled: Mapped[float | None]
    #: cmi.core.lesson_location / cmi.location: where the content says the learner is.
    location: Mapped[str] = mapped_column(String(1000), default="")
    #: cmi.suspend_data: what the content keeps for itself between sessions.
    suspend_data: Mapped[str] = mapped_column(Text, default="")
    #: cmi.core.exit / cmi.exit of the last session ("suspend": the next one resumes).
    exit: Mapped[str] = mapped_column(String(10), default="")
    #: The sessions' times added up (cmi.core.total_time / cmi.total_time).
    total_seconds: Mapped[float] = mapped_column(default=0.0)
    #: How many times the content was started (LMSInitialize / Initialize), and when last.
    launches: Mapped[int] = mapped_column(default=0)
    initialized_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuizAttempt(db.Model):
    __tablename__ = "learning_quiz_attempts"
    __table_args__ = (UniqueConstraint("enrolment_id", "quiz_key", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("learning_enrolments.id", ondelete="CASCADE"), index=True)
    quiz_key: Mapped[str] = mapped_column(String(32))
    #: The course version whose quiz was answered.
    version: Mapped[int]
    #: 1 for the learner's first attempt at this quiz, and so on.
    number: Mapped[int]
    #: {question key: the option keys chosen, or the number given}.
    answers: Mapped[dict] = mapped_column(JSON)
    #: {question key: true or false}: which answers were right (for the item analysis).
    marks: Mapped[dict] = mapped_column(JSON)
    percent: Mapped[int]
    passed: Mapped[bool]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Assignment(db.Model):
    """A course that a department's staff, or a directory group's members, are asked to take by a date."""

    __tablename__ = "learning_assignments"
    __table_args__ = (CheckConstraint("(department_id IS NULL) <> (group_dn IS NULL)", name="one_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("learning_courses.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    group_dn: Mapped[str | None] = mapped_column(String(1000))
    due_at: Mapped[datetime | None]
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship()
    department: Mapped[Department | None] = relationship()


class Certificate(db.Model):
    """Proof that someone completed a course, verifiable by anyone at its stable address."""

    __tablename__ = "learning_certificates"
    #: One certificate per person and course (NULLs, once an account or course is gone, do not collide).
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    #: Random and unguessable: the certificate's address.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("learning_courses.id", ondelete="SET NULL"))
    #: As they were when it was issued: a certificate does not change when a course or a name does.
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    course_title: Mapped[str] = mapped_column(String(200))
    course_version: Mapped[int]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    course: Mapped[Course | None] = relationship()
