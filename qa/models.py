"""Questions, answers, comments, their revisions and votes, tags, communities, flags and the moderation log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.models import User
from knet.db import db, utcnow

question_tags = Table(
    "qa_question_tags", db.metadata,
    Column("question_id", ForeignKey("qa_questions.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("qa_tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class QuestionTag(db.Model):
    """A topic of questions; «Προμήθειες», «ΠΡΟΜΗΘΕΙΕΣ» and «προμηθειες» are one tag."""

    __tablename__ = "qa_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: As first written (trimmed, single spaces).
    name: Mapped[str] = mapped_column(String(50))
    #: The name folded (lower case, no accents, final sigma as σ): what makes two tags one.
    key: Mapped[str] = mapped_column(String(50), unique=True)


tag_follows = Table(
    "qa_tag_follows", db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("qa_tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Community(db.Model):
    """A community of practice: a topic space hosted by this node, with members and moderators."""

    __tablename__ = "qa_communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The readable address (/communities/<slug>); the URI stays /communities/<id> for federation.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Sanitised HTML of the description.
    description_html: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(10), default="internal")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="community", cascade="all, delete-orphan")


class FormerSlug(db.Model):
    """An address a community had before it was renamed, so that old links still lead to it."""

    __tablename__ = "qa_community_former_slugs"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("qa_communities.id", ondelete="CASCADE"), index=True)


class Membership(db.Model):
    """Someone's place in a community: member or moderator, and whether they follow its new questions."""

    __tablename__ = "qa_memberships"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("qa_communities.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: "member" or "moderator".
    role: Mapped[str] = mapped_column(String(10), default="member")
    following: Mapped[bool] = mapped_column(default=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    community: Mapped[Community] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()


class Question(db.Model):
    __tablename__ = "qa_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: Sanitised HTML of the current body.
    html: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    visibility: Mapped[str] = mapped_column(String(10), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("qa_communities.id", ondelete="SET NULL"), index=True)
    #: Number of the current revision.
    revision: Mapped[int] = mapped_column(default=1)
    #: Sum of the votes (+1 and -1), kept with each vote.
    score: Mapped[int] = mapped_column(default=0)
    #: Visible answers, kept with each answer, hide and restore.
    answer_count: Mapped[int] = mapped_column(default=0)
    accepted_answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("qa_answers.id", ondelete="SET NULL", use_alter=True, name="fk_qa_questions_accepted"))
    closed_reason: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[datetime | None]
    #: A duplicate points to the question it repeats (and is closed).
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("qa_questions.id", ondelete="SET NULL"))
    locked_at: Mapped[datetime | None]
    #: Why it was locked, shown on the question.
    locked_reason: Mapped[str | None] = mapped_column(String(500))
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    hidden_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: Last time anything happened to the question (an edit, an answer, a comment): "active" lists.
    active_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    author: Mapped[User | None] = relationship(lazy="joined")
    community: Mapped[Community | None] = relationship()
    tags: Mapped[list[QuestionTag]] = relationship(secondary=question_tags, order_by=lambda: QuestionTag.key)
    answers: Mapped[list[Answer]] = relationship(back_populates="question", foreign_keys="Answer.question_id",
                                                 cascade="all, delete-orphan")
    accepted_answer: Mapped[Answer | None] = relationship(foreign_keys=[accepted_answer_id], post_update=True)
    duplicate_of: Mapped[Question | None] = relationship(remote_side=[id])

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Answer(db.Model):
    __tablename__ = "qa_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    revision: Mapped[int] = mapped_column(default=1)
    score: Mapped[int] = mapped_column(default=0)
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    hidden_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    question: Mapped[Question] = relationship(back_populates="answers", foreign_keys=[question_id])
    author: Mapped[User | None] = relationship(lazy="joined")

    @property
    def is_accepted(self) -> bool:
        return self.question.accepted_answer_id == self.id


class Comment(db.Model):
    """A short remark under a question or an answer."""

    __tablename__ = "qa_comments"
    __table_args__ = (CheckConstraint("(question_id IS NULL) <> (answer_id IS NULL)", name="one_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"), index=True)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("qa_answers.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    hidden_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")


class PostRevision(db.Model):
    """One saved state of a question (title and body) or of an answer (body); never changed."""

    __tablename__ = "qa_revisions"
    __table_args__ = (CheckConstraint("(question_id IS NULL) <> (answer_id IS NULL)", name="one_target"),
                      UniqueConstraint("question_id", "number"), UniqueConstraint("answer_id", "number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"))
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("qa_answers.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(String(500), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")


class Vote(db.Model):
    """One person's vote on one question or answer: +1 or -1 (a vote taken back is deleted)."""

    __tablename__ = "qa_votes"
    __table_args__ = (CheckConstraint("(question_id IS NULL) <> (answer_id IS NULL)", name="one_target"),
                      CheckConstraint("value IN (-1, 1)", name="value"),
                      UniqueConstraint("user_id", "question_id", name="uq_qa_votes_user_question"),
                      UniqueConstraint("user_id", "answer_id", name="uq_qa_votes_user_answer"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"), index=True)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("qa_answers.id", ondelete="CASCADE"), index=True)
    value: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Flag(db.Model):
    """Someone asks the moderators to look at a question, answer or comment."""

    __tablename__ = "qa_flags"
    __table_args__ = (Index("ix_qa_flags_open", "resolved_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "question", "answer" or "comment".
    target_type: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500))
    flagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: What the moderator did: "hidden", "dismissed".
    outcome: Mapped[str | None] = mapped_column(String(20))

    flagged_by: Mapped[User | None] = relationship(foreign_keys=[flagged_by_id])


class ModerationEntry(db.Model):
    """What a moderator did, to what, and why: closing, locking, hiding, restoring, marking duplicates."""

    __tablename__ = "qa_moderation_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    target_type: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500), default="")

    moderator: Mapped[User | None] = relationship()
