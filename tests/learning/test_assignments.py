"""Assigning a course to a department (with its sub-units) or to a directory group, with a due date:
who is asked (as the directory last said), what they are told, what "My learning" and the course page
show them, the trainer's page, and every refusal. The last test goes through a real slapd."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from auth.ldap import normal_dn
from auth.models import Department, GroupMembership, Notification, User
from auth import services as auth_services
from knet.db import db, utcnow
from knet.errors import Conflict, Forbidden, Invalid, NotFound
from learning import assignments, catalogue, courses, progress, structure, versions
from learning.courses import CourseInput
from learning.models import Assignment, Enrolment
from tests.conftest import PASSWORD, post_sign_in
from tests.forms import csrf_token

PAYROLL_GROUP = "cn=Μισθοδοσία,ou=Groups,dc=example,dc=gr"


def day(offset: int) -> str:
    return (utcnow().date() + timedelta(days=offset)).isoformat()


@pytest.fixture
def town(make_user):
    """Finance → Payroll, and Technical; Maria in Finance, Kostas in Payroll, Nikos in Technical; Kostas
    and Nikos in the payroll group, as sign-in leaves them."""
    finance = Department(dn="ou=finance,dc=example,dc=gr", name="Διεύθυνση Οικονομικών")
    payroll = Department(dn="ou=payroll,ou=finance,dc=example,dc=gr", name="Τμήμα Μισθοδοσίας", parent=finance)
    technical = Department(dn="ou=technical,dc=example,dc=gr", name="Τεχνική Υπηρεσία")
    db.session.add_all([finance, payroll, technical])
    people = {"trainer": make_user("tina", role="trainer"), "maria": make_user("maria", role="reader"),
              "kostas": make_user("kostas", role="reader"), "nikos": make_user("nikos", role="reader"),
              "other_trainer": make_user("otto", role="trainer")}
    people["maria"].department, people["kostas"].department = finance, payroll
    people["nikos"].department = technical
    for name in ("kostas", "nikos"):
        db.session.add(GroupMembership(user_id=people[name].id, dn=normal_dn(PAYROLL_GROUP)))
    db.session.commit()
    return {**people, "finance": finance, "payroll": payroll, "technical": technical}


@pytest.fixture
def course(town, make_course):
    return make_course(town["trainer"], "Κλείσιμο μισθοδοσίας")


def told(person: User) -> list[str]:
    return list(db.session.scalars(select(Notification.subject).where(Notification.user_id == person.id,
                                                                      Notification.kind == "learning.assigned")))


# The service -------------------------------------------------------------------------------------

def test_a_department_assignment_asks_its_sub_units_too_and_tells_them(town, course):
    assignment, new = assignments.assign(town["trainer"], course, department_id=town["finance"].id, due=day(30))
    db.session.commit()
    assert new and assignment.due_at.date().isoformat() == day(30)
    assert {p.username for p in assignments.people_of(assignment)} == {"maria", "kostas"}
    assert {key: due.date().isoformat() for key, due in assignments.due_dates(town["kostas"]).items()} == {
        course.id: day(30)}
    assert assignments.due_dates(town["nikos"]) == {}
    assert told(town["maria"]) == told(town["kostas"]) == ["Κλείσιμο μισθοδοσίας"] and told(town["nikos"]) == []
    assert told(town["trainer"]) == []


def test_a_group_assignment_follows_membership_as_the_directory_last_said(town, course):
    assignments.assign(town["trainer"], course, group_dn=PAYROLL_GROUP.upper(), due="")
    db.session.commit()
    assert set(assignments.due_dates(town["nikos"])) == {course.id}
    assert assignments.due_dates(town["maria"]) == {}
    # Maria joins the group at her next sign-in; Nikos leaves it.
    db.session.add(GroupMembership(user_id=town["maria"].id, dn=normal_dn(PAYROLL_GROUP)))
    db.session.execute(GroupMembership.__table__.delete().where(GroupMembership.user_id == town["nikos"].id))
    db.session.commit()
    assert assignments.due_dates(town["maria"]) == {course.id: None}
    assert assignments.due_dates(town["nikos"]) == {}


def test_assigning_again_changes_the_date_and_the_earliest_date_counts(town, course):
    first, _ = assignments.assign(town["trainer"], course, department_id=town["payroll"].id, due=day(60))
    again, new = assignments.assign(town["trainer"], course, department_id=town["payroll"].id, due=day(40))
    assignments.assign(town["trainer"], course, group_dn=PAYROLL_GROUP, due=day(20))
    db.session.commit()
    assert again.id == first.id and not new and again.due_at.date().isoformat() == day(40)
    assert db.session.scalar(select(func.count(Assignment.id))) == 2
    assert assignments.due_dates(town["kostas"])[course.id].date().isoformat() == day(20)


def test_enrolling_in_an_assigned_course_says_so_and_my_learning_shows_the_due_date(town, course, make_course):
    other = make_course(town["trainer"], "Άλλο μάθημα")
    assignments.assign(town["trainer"], course, department_id=town["payroll"].id, due=day(10))
    db.session.commit()
    waiting = catalogue.assigned_not_started(town["kostas"])
    assert [(entry.course.id, entry.due_at.date().isoformat()) for entry in waiting] == [(course.id, day(10))]
    enrolment, _ = progress.enrol(town["kostas"], course)
    mine, _ = progress.enrol(town["kostas"], other)
    db.session.commit()
    assert (enrolment.source, mine.source) == ("assignment", "self")
    assert catalogue.assigned_not_started(town["kostas"]) == []
    in_progress, _completed = catalogue.my_learning(town["kostas"])
    due = {entry.course.id: entry.due_at for entry in in_progress}
    assert due[course.id].date().isoformat() == day(10) and due[other.id] is None
    page = catalogue.course_page(town["kostas"], course)
    assert page.assigned and page.due_at.date().isoformat() == day(10)
    assert not catalogue.course_page(town["nikos"], course).assigned


def test_those_who_completed_are_not_told_again_and_withdrawing_keeps_their_progress(town, course,
                                                                                     complete_course):
    complete_course(town["kostas"], course)
    assignment, _ = assignments.assign(town["trainer"], course, department_id=town["finance"].id)
    db.session.commit()
    assert told(town["kostas"]) == [] and told(town["maria"]) == ["Κλείσιμο μισθοδοσίας"]
    [row] = assignments.of_course(course)
    assert (row.target, row.people, row.enrolled, row.completed) == ("Διεύθυνση Οικονομικών", 2, 1, 1)
    assignments.unassign(town["trainer"], course, assignment.id)
    db.session.commit()
    assert assignments.of_course(course) == []
    assert db.session.scalar(select(Enrolment.completed_at).where(Enrolment.user_id == town["kostas"].id))


def test_an_overdue_assignment_is_said_to_be_overdue(town, course):
    assignment, _ = assignments.assign(town["trainer"], course, department_id=town["payroll"].id, due=day(0))
    assignment.due_at -= timedelta(days=3)  # three days later, nobody has finished
    db.session.commit()
    [row] = assignments.of_course(course)
    assert row.overdue
    assert catalogue.assigned_not_started(town["kostas"])[0].overdue


@pytest.mark.parametrize("target, due, error, field", [
    ({}, "", Invalid, None),
    ({"department_id": 1, "group_dn": PAYROLL_GROUP}, "", Invalid, None),
    ({"department_id": 999999}, "", Invalid, "department"),
    ({"department_id": "finance"}, "", Invalid, "department"),
    ({"department_id": 2**40}, "", Invalid, "department"),
    ({"group_dn": "cn=nobody,dc=example,dc=gr"}, "", Invalid, "group"),
    ({"group_dn": "not a dn (*)"}, "", Invalid, "group"),
    ({"department": True}, "31/12/2026", Invalid, "due"),
    ({"department": True}, "yesterday", Invalid, "due"),
    ({"department": True}, day(-1), Invalid, "due"),
    ({"department": True}, day(6 * 366), Invalid, "due"),
    ({"department": True}, 20261231, Invalid, "due"),
])
def test_bad_assignments_are_refused_with_a_sentence_and_change_nothing(town, course, target, due, error, field):
    if target.pop("department", None):
        target["department_id"] = town["finance"].id
    with pytest.raises(error) as refused:
        assignments.assign(town["trainer"], course, due=due, **target)
    assert refused.value.message and refused.value.extra.get("field") == field
    db.session.rollback()
    assert db.session.scalar(select(func.count(Assignment.id))) == 0
    assert told(town["maria"]) == []


def test_only_the_course_trainers_assign_a_published_course_that_is_not_private(town, course, make_course):
    with pytest.raises(Forbidden):
        assignments.assign(town["other_trainer"], course, department_id=town["finance"].id)
    with pytest.raises(Forbidden):
        assignments.assign(town["maria"], course, department_id=town["finance"].id)
    draft = make_course(town["trainer"], "Πρόχειρο μάθημα", publish=False)
    with pytest.raises(Conflict):
        assignments.assign(town["trainer"], draft, department_id=town["finance"].id)
    secret = make_course(town["trainer"], "Ιδιωτικό μάθημα", visibility="private")
    with pytest.raises(Invalid):
        assignments.assign(town["trainer"], secret, department_id=town["finance"].id)
    other = make_course(town["trainer"], "Τρίτο μάθημα")
    assignment, _ = assignments.assign(town["trainer"], other, department_id=town["finance"].id)
    with pytest.raises(NotFound):  # an assignment of another course
        assignments.unassign(town["trainer"], course, assignment.id)
    with pytest.raises(NotFound):
        assignments.unassign(town["trainer"], course, 2**40)


# The pages ---------------------------------------------------------------------------------------

def test_the_trainer_assigns_from_the_page_and_sees_who_got_how_far(town, course, browse):
    trainer = browse(town["trainer"])
    page = trainer.get(f"/learning/courses/{course.id}/assignments")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "not been assigned to anyone" in html
    assert "Τεχνική Υπηρεσία" in html and "μισθοδοσία (2 people)" in html
    response = trainer.post(f"/learning/courses/{course.id}/assignments/department", data={
        "department-csrf_token": csrf_token(html), "department-department": str(town["finance"].id),
        "department-due": day(14)})
    assert response.status_code == 302
    html = trainer.get(response.location).get_data(as_text=True)
    assert "Assigned: those asked were told" in html
    row = html[html.index("<tbody>"):html.index("</tbody>")]
    assert "Διεύθυνση Οικονομικών" in row and ">2<" in row.replace("</td>", "<").replace("<td>", ">")

    learner = browse(town["kostas"])
    mine = learner.get("/learning/mine").get_data(as_text=True)
    assert "Assigned to you, not started" in mine and "Κλείσιμο μισθοδοσίας" in mine
    assert "Due by" in mine
    assert "Assigned to you: complete it by" in learner.get(f"/learning/courses/{course.id}").get_data(as_text=True)
    assert "assigned you the course “Κλείσιμο μισθοδοσίας”" in learner.get("/notifications").get_data(as_text=True)

    assignment_id = db.session.scalar(select(Assignment.id))
    withdraw = trainer.post(f"/learning/courses/{course.id}/assignments/{assignment_id}/withdraw",
                            data={"csrf_token": csrf_token(html)})
    assert withdraw.status_code == 302
    assert "not been assigned to anyone" in trainer.get(withdraw.location).get_data(as_text=True)
    assert "Assigned to you" not in learner.get("/learning/mine").get_data(as_text=True)


def test_a_refused_assignment_form_says_why_next_to_the_field(town, course, browse):
    trainer = browse(town["trainer"])
    html = trainer.get(f"/learning/courses/{course.id}/assignments").get_data(as_text=True)
    response = trainer.post(f"/learning/courses/{course.id}/assignments/group", data={
        "group-csrf_token": csrf_token(html), "group-group": normal_dn(PAYROLL_GROUP), "group-due": day(-2)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="group-due-error"' in page and "already passed" in page and 'aria-invalid="true"' in page
    assert "Nothing was assigned" in page
    assert db.session.scalar(select(func.count(Assignment.id))) == 0
    without_token = trainer.post(f"/learning/courses/{course.id}/assignments/group",
                                 data={"group-group": normal_dn(PAYROLL_GROUP)})
    assert without_token.status_code == 400 and db.session.scalar(select(func.count(Assignment.id))) == 0


def test_only_the_course_trainers_reach_the_assignments_page(town, course, browse):
    assert browse(town["kostas"]).get(f"/learning/courses/{course.id}/assignments").status_code == 403
    assert browse(town["other_trainer"]).get(f"/learning/courses/{course.id}/assignments").status_code == 403
    assert browse(None).get(f"/learning/courses/{course.id}/assignments").status_code == 302
    assert browse(town["trainer"]).get("/learning/courses/999999/assignments").status_code == 404
    learner = browse(town["kostas"])
    token = csrf_token(learner.get(f"/learning/courses/{course.id}").get_data(as_text=True))
    refused = learner.post(f"/learning/courses/{course.id}/assignments/department", data={
        "department-csrf_token": token, "department-department": str(town["finance"].id)})
    assert refused.status_code == 403 and db.session.scalar(select(func.count(Assignment.id))) == 0


# Through the directory ----------------------------------------------------------------------------

def test_people_a_real_directory_puts_in_a_group_find_the_course_assigned_to_it(athens_node, athens_directory):
    """The trainer assigns a course to the directory's `everyone` group; Kostas, who signs in only
    afterwards, is asked too, and so is he through his department (Finance, above his Payroll)."""
    trainer = auth_services.create_local_user("tina", PASSWORD, role="trainer")
    course = courses.create_course(trainer, CourseInput(title="Ασφάλεια πληροφοριών"))
    module = structure.add_module(trainer, course, "Εισαγωγή")
    structure.add_lesson(trainer, module, "Κωδικοί πρόσβασης", "Ποτέ ο ίδιος κωδικός δύο φορές.")
    versions.publish(trainer, course)
    db.session.commit()
    maria = athens_directory.accounts["maria"]
    assert post_sign_in(athens_node.test_client(), "maria", maria.password).status_code == 302
    assignments.assign(trainer, course, group_dn=athens_directory.groups["everyone"], due=day(7))
    finance = db.session.scalar(select(Department).where(Department.dn.like("ou=finance,%")))
    assignments.assign(trainer, course, department_id=finance.id, due=day(3))
    db.session.commit()

    kostas = athens_node.test_client()
    kostas.set_cookie("knet_lang", "en")
    assert post_sign_in(kostas, "kostas", athens_directory.accounts["kostas"].password).status_code == 302
    mine = kostas.get("/learning/mine").get_data(as_text=True)
    assert "Ασφάλεια πληροφοριών" in mine and "Assigned to you, not started" in mine
    assert assignments.due_dates(User.by_username("kostas"))[course.id].date().isoformat() == day(3)
