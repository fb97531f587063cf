"""Questions and answers in the JSON API: /api/v1/questions, /api/v1/answers, and the tags one follows.

Thin views: parse the request, call qa.services, commit, answer JSON. Every failure is a problem
document (knet.errors); a race the database refused is a 409 or 503 the client can repeat.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, select
from sqlalchemy.orm import selectinload

from auth.access import visible_clause
from auth.bearer import api_actor
from auth.models import User
from knet.api import add_openapi, answer_races, json_object, page_links, pagination, register_api
from knet.config import LANGUAGES
from knet.db import as_utc, db
from knet.errors import Conflict, Invalid, NotFound
from qa import openapi, services
from qa import tags as qa_tags
from qa.models import Answer, Comment, Question, QuestionTag, Vote, question_tags
from qa.services import QuestionInput

bp = Blueprint("qa_api", __name__, url_prefix="/api/v1")


def _race_detail() -> str | None:
    if request.endpoint in ("qa_api.vote_question", "qa_api.vote_answer"):
        return str(_l("Your vote could not be saved at the same moment as another; please try again."))
    return None


answer_races(bp, _race_detail)

#: Ids are 32-bit integers in the database: a larger number names nothing (and must not reach SQL).
MAX_ID = 2**31 - 1
QUESTION_FIELDS = {"title", "body", "tags", "language", "visibility", "community"}
TEXT_FIELDS = {"title", "body", "language", "visibility", "summary"}
NO_SUCH_ANSWER = _l("There is no such answer, or you may not see it.")
#: Accepted spellings of ?unanswered=.
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


# JSON shapes ---------------------------------------------------------------------------------------

def _moment(value) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def _username(person: User | None) -> str | None:
    return person.username if person is not None else None


def comment_json(remark: Comment) -> dict:
    return {
        "id": remark.id,
        "body": remark.body,
        "html": remark.html,
        "author": _username(remark.author),
        "created": _moment(remark.created_at),
        "hidden": remark.hidden_at is not None,
    }


def question_json(question: Question) -> dict:
    """A question as lists show it (without its answers)."""
    return {
        "id": question.id,
        "title": question.title,
        "body": question.body,
        "html": question.html,
        "language": question.language,
        "visibility": question.visibility,
        "tags": question.tag_names,
        "author": _username(question.author),
        "community": question.community_id,
        "score": question.score,
        "answer_count": question.answer_count,
        "accepted_answer": question.accepted_answer_id,
        "closed": question.is_closed,
        "closed_reason": question.closed_reason,
        "duplicate_of": question.duplicate_of_id,
        "locked": question.locked_at is not None,
        "locked_reason": question.locked_reason if question.locked_at is not None else None,
        "hidden": question.hidden_at is not None,
        "hidden_reason": question.hidden_reason,
        "revision": question.revision,
        "created": _moment(question.created_at),
        "active": _moment(question.active_at),
        "uri": services.question_uri(question.id),
        "url": url_for("qa_api.get_question", question_id=question.id),
    }


def answer_json(actor: User | None, reply: Answer, my_vote: int | None = None) -> dict:
    return {
        "id": reply.id,
        "question": reply.question_id,
        "body": reply.body,
        "html": reply.html,
        "author": _username(reply.author),
        "score": reply.score,
        "accepted": reply.is_accepted,
        "my_vote": services.my_vote(actor, answer=reply) if my_vote is None else my_vote,
        "hidden": reply.hidden_at is not None,
        "hidden_reason": reply.hidden_reason,
        "revision": reply.revision,
        "created": _moment(reply.created_at),
        "updated": _moment(reply.updated_at),
        "comments": [comment_json(c) for c in services.comments_on(actor, answer=reply)],
        "uri": services.answer_uri(reply.id),
        "url": url_for("qa_api.get_answer", answer_id=reply.id),
    }


def question_detail_json(actor: User | None, question: Question) -> dict:
    """A question with what its page shows: its visible answers (accepted first) and the comments."""
    answers = services.visible_answers(actor, question)
    votes: dict[int, int] = {}
    if actor is not None and answers:
        votes = {answer_id: value for answer_id, value in db.session.execute(select(Vote.answer_id, Vote.value).where(
            Vote.user_id == actor.id, Vote.answer_id.in_([a.id for a in answers])))}
    return {
        **question_json(question),
        "my_vote": services.my_vote(actor, question=question),
        "comments": [comment_json(c) for c in services.comments_on(actor, question=question)],
        "answers": [answer_json(actor, a, votes.get(a.id, 0)) for a in answers],
    }


# Parsing -------------------------------------------------------------------------------------------

def _question(actor: User | None, question_id: int) -> Question:
    if question_id > MAX_ID:
        raise NotFound(services.NO_SUCH_QUESTION)
    return services.get_question(actor, question_id)


def _answer(actor: User | None, answer_id: int) -> Answer:
    if answer_id > MAX_ID:
        raise NotFound(NO_SUCH_ANSWER)
    return services.get_answer(actor, answer_id)


def _whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _question_input(data: dict, defaults: QuestionInput) -> QuestionInput:
    """The fields sent, over the defaults (a new question's, or the question as it is), with their types checked."""
    for name in sorted(TEXT_FIELDS & set(data)):
        if not isinstance(data[name], str):
            raise Invalid(_l("The field “%(field)s” must be text.", field=name), field=name)
    tags = data.get("tags", defaults.tags)
    if not isinstance(tags, list):
        raise Invalid(_l("The field “tags” must be a list of text."), field="tags")
    community = data.get("community", defaults.community_id)
    if community is not None and not _whole_number(community):
        raise Invalid(_l("The field “community” must be a community's id (a whole number) or null."),
                      field="community")
    if community is not None and not 1 <= community <= MAX_ID:
        raise Invalid(_l("There is no such community, or you may not see it."), field="community")
    return QuestionInput(
        title=data.get("title", defaults.title), body=data.get("body", defaults.body), tags=tags,
        language=data.get("language", defaults.language), visibility=data.get("visibility", defaults.visibility),
        community_id=community, summary=data.get("summary", ""))


def _no_body() -> None:
    """Actions without fields take no body, or an empty JSON object."""
    if request.get_data(cache=True):
        json_object(set())


def _query_text(name: str) -> str:
    value = request.args.get(name, "").strip()
    if services.UNSTORABLE.search(value):
        raise Invalid(_l("The query parameter “%(name)s” contains a character that cannot be searched for.",
                         name=name), field=name)
    return value


def _vote_value() -> int:
    value = json_object({"value"}, required={"value"})["value"]
    if not _whole_number(value) or value not in (-1, 0, 1):
        raise Invalid(_l("A vote is 1 (up), -1 (down) or 0 (take my vote back)."), field="value")
    return value


# Questions -----------------------------------------------------------------------------------------

@bp.get("/questions")
def list_questions():
    """Questions this caller may see, newest first, filtered by tag, language, community or lack of answers."""
    actor = api_actor()
    page, per_page = pagination()
    filters = {"tag": _query_text("tag") or None, "language": _query_text("language") or None,
               "community": _query_text("community") or None, "unanswered": _query_text("unanswered").lower()}
    query = select(Question).where(visible_clause(actor, Question.visibility, Question.author_id))
    if not services.is_moderator(actor):
        query = query.where(Question.hidden_at.is_(None))
    if filters["tag"]:
        tag = qa_tags.find(filters["tag"])
        query = query.where(Question.id.in_(select(question_tags.c.question_id)
                                            .where(question_tags.c.tag_id == tag.id)) if tag else false())
    if filters["language"]:
        if filters["language"] not in LANGUAGES:
            raise Invalid(_l("The language must be one of %(choices)s.", choices=", ".join(LANGUAGES)),
                          field="language")
        query = query.where(Question.language == filters["language"])
    if filters["community"]:
        if not filters["community"].isdigit() or not filters["community"].isascii():
            raise Invalid(_l("“community” must be a community's id (a whole number)."), field="community")
        community = int(filters["community"])
        query = query.where(Question.community_id == community if community <= MAX_ID else false())
    if filters["unanswered"] not in TRUE | FALSE:
        raise Invalid(_l("“unanswered” is true or false."), field="unanswered")
    if filters["unanswered"] in TRUE:
        query = query.where(Question.answer_count == 0)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    questions = db.session.scalars(query.options(selectinload(Question.tags))
                                   .order_by(Question.created_at.desc(), Question.id.desc())
                                   .limit(per_page).offset((page - 1) * per_page)).unique().all()
    links = page_links("qa_api.list_questions", page, per_page, total, tag=filters["tag"],
                       language=filters["language"], community=filters["community"],
                       unanswered="true" if filters["unanswered"] in TRUE else None)
    return {"items": [question_json(q) for q in questions], **links}


@bp.post("/questions")
def create_question():
    actor = api_actor()
    data = json_object(QUESTION_FIELDS, required={"title", "body"})
    defaults = QuestionInput(title="", body="", language=current_app.config["KNET"]["default_language"])
    question = services.ask(actor, _question_input(data, defaults))
    db.session.commit()
    return (question_detail_json(actor, question), 201,
            {"Location": url_for("qa_api.get_question", question_id=question.id)})


@bp.get("/questions/<int:question_id>")
def get_question(question_id: int):
    actor = api_actor()
    return question_detail_json(actor, _question(actor, question_id))


@bp.put("/questions/<int:question_id>")
def update_question(question_id: int):
    """Save a new revision: the fields sent replace the current ones; an optional base_revision guards against
    overwriting someone else's edit."""
    actor = api_actor()
    question = _question(actor, question_id)
    data = json_object(QUESTION_FIELDS | {"summary", "base_revision"})
    base = data.pop("base_revision", None)
    if base is not None and not _whole_number(base):
        raise Invalid(_l("The field “base_revision” must be a revision number."), field="base_revision")
    current = QuestionInput(title=question.title, body=question.body, tags=question.tag_names,
                            language=question.language, visibility=question.visibility,
                            community_id=question.community_id)
    changed = _question_input(data, current)
    if base is not None and base != question.revision:
        raise _stale(question, base)
    services.edit_question(actor, question, changed)
    db.session.commit()
    return question_detail_json(actor, question)


def _stale(question: Question, base: int) -> Conflict:
    return Conflict(_l("The question has changed since revision %(base)d: it is at revision %(current)d now. "
                       "Read it again and repeat your change.", base=base, current=question.revision),
                    field="base_revision", current_revision=question.revision)


@bp.post("/questions/<int:question_id>/answers")
def create_answer(question_id: int):
    actor = api_actor()
    question = _question(actor, question_id)
    data = json_object({"body"}, required={"body"})
    reply = services.answer(actor, question, data["body"])
    db.session.commit()
    return answer_json(actor, reply), 201, {"Location": url_for("qa_api.get_answer", answer_id=reply.id)}


@bp.post("/questions/<int:question_id>/vote")
def vote_question(question_id: int):
    actor = api_actor()
    question = _question(actor, question_id)
    value = _vote_value()
    score = services.vote(actor, value, question=question)
    db.session.commit()
    return {"score": score, "vote": value}


# Answers -------------------------------------------------------------------------------------------

@bp.get("/answers/<int:answer_id>")
def get_answer(answer_id: int):
    actor = api_actor()
    return answer_json(actor, _answer(actor, answer_id))


@bp.post("/answers/<int:answer_id>/vote")
def vote_answer(answer_id: int):
    actor = api_actor()
    reply = _answer(actor, answer_id)
    value = _vote_value()
    score = services.vote(actor, value, answer=reply)
    db.session.commit()
    return {"score": score, "vote": value}


@bp.post("/answers/<int:answer_id>/accept")
def accept_answer(answer_id: int):
    actor = api_actor()
    reply = _answer(actor, answer_id)
    _no_body()
    services.accept(actor, reply)
    db.session.commit()
    return answer_json(actor, reply)


@bp.delete("/answers/<int:answer_id>/accept")
def unaccept_answer(answer_id: int):
    actor = api_actor()
    reply = _answer(actor, answer_id)
    _no_body()
    if not reply.is_accepted:
        raise Conflict(_l("This answer is not the accepted one, so there is nothing to take back."))
    services.unaccept(actor, reply.question)
    db.session.commit()
    return answer_json(actor, reply)


# Tags ----------------------------------------------------------------------------------------------

def tag_json(tag: QuestionTag, following: bool) -> dict:
    return {"name": tag.name, "following": following,
            "questions": url_for("qa_api.list_questions", tag=tag.name)}


@bp.get("/tags/followed")
def followed_tags():
    """The tags the caller follows, by name."""
    return {"items": [tag_json(tag, True) for tag in qa_tags.followed_tags(api_actor())]}


@bp.put("/tags/<path:name>/follow")
def follow_tag(name: str):
    """Follow a tag (made if no question has it yet): its new questions are told to the caller."""
    actor = api_actor()
    _no_body()
    tag = qa_tags.named(name)
    qa_tags.follow(actor, tag)
    db.session.commit()
    return tag_json(tag, True)


@bp.delete("/tags/<path:name>/follow")
def unfollow_tag(name: str):
    """Stop following a tag (following it or not, the answer is the same)."""
    actor = api_actor()
    _no_body()
    tag = qa_tags.find(name)
    if tag is None:
        raise NotFound(_l("There is no tag “%(tag)s”.", tag=name[:qa_tags.MAX_TAG_LENGTH]))
    qa_tags.follow(actor, tag, False)
    db.session.commit()
    return tag_json(tag, False)


def init_app(app: Flask) -> None:
    """Serve /api/v1/questions, /api/v1/answers and /api/v1/tags and describe them in openapi.json."""
    register_api(app, bp)
    add_openapi(app, openapi.PATHS, openapi.SCHEMAS)
