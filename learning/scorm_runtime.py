"""What a SCORM lesson's content reports while a learner works through it: the runtime in the package's
frame (learning/static/scorm-runtime.js) keeps the CMI data model and, on Initialize, Commit and
Finish/Terminate, sends the values it changed to the player page, which posts them here.

Everything sent is untrusted (a package's scripts can send anything): only the elements knet keeps are
accepted, each checked against its SCORM type (vocabularies, numbers in range, text lengths), and a
refusal is an Invalid naming the element. Completed (1.2 lesson_status "completed" or "passed"; 2004
completion_status "completed") marks the lesson done, passed marks it passed, and a score counts
towards the learner's best percent (learning.progress.record_scorm). Services flush; the caller commits.
"""
from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from auth.models import User
from knet.db import db, utcnow
from knet.errors import Invalid, NotFound
from learning import progress
from learning.models import Course, Enrolment, ScormState

logger = logging.getLogger(__name__)

EVENTS = ("initialize", "commit", "finish")
MAX_VALUES = 20
#: SCORM 1.2's CMITimespan (HHHH:MM:SS.SS) and SCORM 2004's ISO 8601 duration (P1DT2H3M4.5S).
TIMESPAN = re.compile(r"(\d{2,4}):([0-5]\d):([0-5]\d(?:\.\d{1,2})?)")
DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,2})?)S)?)?")
DECIMAL = re.compile(r"-?\d{1,10}(?:\.\d{1,7})?")
STATUSES_12 = ("passed", "completed", "failed", "incomplete", "browsed", "not attempted")
COMPLETION_2004 = ("completed", "incomplete", "not attempted", "unknown")
SUCCESS_2004 = ("passed", "failed", "unknown")


@dataclass(frozen=True)
class Element:
    """A data model element knet keeps: the ScormState column it goes to, and how its value is checked."""

    column: str
    check: Callable[[str, str], object]


def _vocabulary(*words: str) -> Callable[[str, str], str]:
    def check(name: str, value: str) -> str:
        if value not in words:
            raise Invalid(_l("%(name)s must be one of: %(words)s.", name=name,
                             words=", ".join(f"“{word}”" for word in words)), field=name, reason="vocabulary")
        return value
    return check


def _number(low: float | None = None, high: float | None = None) -> Callable[[str, str], float | None]:
    """A real number (SCORM writes them as text, "" for none), within [low, high] when given."""
    def check(name: str, value: str) -> float | None:
        if value == "":
            return None
        if not DECIMAL.fullmatch(value):
            raise Invalid(_l("%(name)s must be a number, such as 85 or 0.5.", name=name), field=name, reason="number")
        number = float(value)
        if (low is not None and number < low) or (high is not None and number > high) or not math.isfinite(number):
            raise Invalid(_l("%(name)s must be from %(low)s to %(high)s.", name=name, low=low, high=high),
                          field=name, reason="range")
        return number
    return check


def _text(limit: int) -> Callable[[str, str], str]:
    def check(name: str, value: str) -> str:
        if len(value) > limit:
            raise Invalid(_l("%(name)s may have at most %(max)d characters.", name=name, max=limit), field=name,
                          reason="length")
        if "\x00" in value:
            raise Invalid(_l("%(name)s may not hold a NUL character.", name=name), field=name, reason="characters")
        return value
    return check


def _timespan(name: str, value: str) -> float:
    """Seconds of a 1.2 CMITimespan."""
    found = TIMESPAN.fullmatch(value)
    if not found:
        raise Invalid(_l("%(name)s must be a time span such as 0001:30:00.", name=name), field=name, reason="time")
    hours, minutes, seconds = found.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _duration(name: str, value: str) -> float:
    """Seconds of a 2004 ISO 8601 duration (a month counted as 30 days, a year as 365)."""
    found = DURATION.fullmatch(value)
    if not found or value in ("P", "PT") or value.endswith("T"):
        raise Invalid(_l("%(name)s must be a duration such as PT1H30M.", name=name), field=name, reason="time")
    years, months, days, hours, minutes, seconds = (float(part or 0) for part in found.groups())
    return ((years * 365 + months * 30 + days) * 24 + hours) * 3600 + minutes * 60 + seconds


#: Session times are added to the total; the rest are stored in their column.
SESSION_TIME = "session_time"
ELEMENTS: dict[str, dict[str, Element]] = {
    "1.2": {
        "cmi.core.lesson_status": Element("completion_status", _vocabulary(*STATUSES_12)),
        "cmi.core.score.raw": Element("score_raw", _number(0, 100)),
        "cmi.core.score.min": Element("score_min", _number(0, 100)),
        "cmi.core.score.max": Element("score_max", _number(0, 100)),
        "cmi.core.lesson_location": Element("location", _text(255)),
        "cmi.suspend_data": Element("suspend_data", _text(4096)),
        "cmi.core.exit": Element("exit", _vocabulary("", "time-out", "suspend", "logout")),
        "cmi.core.session_time": Element(SESSION_TIME, _timespan),
    },
    "2004": {
        "cmi.completion_status": Element("completion_status", _vocabulary(*COMPLETION_2004)),
        "cmi.success_status": Element("success_status", _vocabulary(*SUCCESS_2004)),
        "cmi.score.scaled": Element("score_scaled", _number(-1, 1)),
        "cmi.score.raw": Element("score_raw", _number()),
        "cmi.score.min": Element("score_min", _number()),
        "cmi.score.max": Element("score_max", _number()),
        "cmi.location": Element("location", _text(1000)),
        "cmi.suspend_data": Element("suspend_data", _text(64000)),
        "cmi.exit": Element("exit", _vocabulary("", "time-out", "suspend", "logout", "normal")),
        "cmi.session_time": Element(SESSION_TIME, _duration),
    },
}


def checked(version: str, event: object, values: object) -> tuple[str, dict[str, object]]:
    """The event and the values sent, each checked; Invalid names the first that is wrong."""
    if event not in EVENTS:
        raise Invalid(_l("The event must be one of: %(events)s.", events=", ".join(EVENTS)), field="event",
                      reason="vocabulary")
    if not isinstance(values, dict):
        raise Invalid(_l("The values must be an object of data model elements and their texts."), field="values",
                      reason="shape")
    if len(values) > MAX_VALUES:
        raise Invalid(_l("At most %(max)d values are sent at once.", max=MAX_VALUES), field="values", reason="length")
    elements = ELEMENTS[version]
    cleaned = {}
    for name, value in values.items():
        element = elements.get(name)
        if element is None:
            raise Invalid(_l("“%(name)s” is not an element of SCORM %(version)s that knet keeps.", name=name[:100],
                             version=version), field="values", reason="element")
        if not isinstance(value, str):
            raise Invalid(_l("The value of %(name)s must be text.", name=name), field=name, reason="type")
        cleaned[element.column] = element.check(name, value)
    return event, cleaned


def record(actor: User | None, course: Course, key: str, event: object, values: object) -> ScormState:
    """Keep what the content of a SCORM lesson reported for an enrolled learner, and the progress it makes."""
    enrolment = progress.require_enrolment(actor, course)
    package = scorm_of(course, key)
    event, cleaned = checked(package["version"], event, values)
    state = state_of(enrolment, key, package["version"], create=True)
    now = utcnow()
    if event == "initialize":
        state.launches += 1
        state.initialized_at = now
    session = cleaned.pop(SESSION_TIME, None)
    if session is not None and event == "finish":
        state.total_seconds += session
    for column, value in cleaned.items():
        setattr(state, column, value)
    state.updated_at = now
    db.session.flush()
    progress.record_scorm(enrolment, key, completed=state.completion_status in ("completed", "passed"),
                          passed="passed" in (state.completion_status, state.success_status),
                          percent=percent(state))
    logger.info("user %d: SCORM %s of item %s in course %d (%s)", enrolment.user_id, event, key, course.id,
                ", ".join(sorted(cleaned)))
    return state


def scorm_of(course: Course, key: str) -> dict:
    """The package, as the newest version froze it, of a SCORM lesson of the course."""
    item = progress.find_item(course, key)
    if item["kind"] != "scorm" or not item.get("scorm"):
        raise NotFound(_l("This step is not a SCORM lesson."))
    return item["scorm"]


def state_of(enrolment: Enrolment, key: str, version: str, create: bool = False) -> ScormState | None:
    """Where the learner stands in the lesson; a package of another version starts afresh (its state is
    replaced when `create`, and not shown otherwise)."""
    state = db.session.get(ScormState, (enrolment.id, key))
    if state is not None and state.version != version:
        if not create:
            return None
        db.session.delete(state)
        db.session.flush()
        state = None
    if state is None and create:
        state = ScormState(enrolment_id=enrolment.id, item_key=key, version=version, completion_status="not attempted",
                           success_status="unknown", location="", suspend_data="", exit="", total_seconds=0.0,
                           launches=0)
        db.session.add(state)
    return state


def percent(state: ScormState) -> int | None:
    """The score in percent: 2004's scaled score, or the raw score between its minimum and maximum (0 and
    100 unless the content said otherwise)."""
    if state.score_scaled is not None:
        return max(0, min(100, round(state.score_scaled * 100)))
    if state.score_raw is None:
        return None
    low = state.score_min if state.score_min is not None else 0.0
    high = state.score_max if state.score_max is not None else 100.0
    if high <= low:
        return None
    return max(0, min(100, round(100 * (state.score_raw - low) / (high - low))))
