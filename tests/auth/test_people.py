"""auth/people.py: profiles, skills (folding, limits, suggestions), who knows what, departments, permissions."""
from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from auth import content as person_content, people
from auth.models import Department, Skill, User
from auth.people import ProfileInput
from knet import jobs
from knet.db import db
from knet.errors import Forbidden, Invalid, NotFound, Unauthorized
from knet.jobs import Job


def profile(person, actor=None, **fields) -> User:
    """Save a profile through the service and commit, as a request would."""
    people.update_profile(actor or person, person, ProfileInput(**fields))
    db.session.commit()
    return person


def field_of(exc_info) -> str:
    return exc_info.value.extra.get("field")


@pytest.fixture
def units(app):
    """Directorate of Finance → Procurement Department → Tenders Office, and a Technical Services directorate."""
    finance = Department(dn="ou=finance,dc=test", name="Διεύθυνση Οικονομικών")
    procurement = Department(dn="ou=procurement,ou=finance,dc=test", name="Τμήμα Προμηθειών", parent=finance)
    tenders = Department(dn="ou=tenders,ou=procurement,ou=finance,dc=test", name="Γραφείο Διαγωνισμών",
                         parent=procurement)
    technical = Department(dn="ou=technical,dc=test", name="Τεχνικές Υπηρεσίες")
    db.session.add_all([finance, procurement, tenders, technical])
    db.session.commit()
    return {"finance": finance, "procurement": procurement, "tenders": tenders, "technical": technical}


# Skills ------------------------------------------------------------------------------------------

def test_skills_are_folded_trimmed_and_deduplicated(make_user):
    maria = make_user("maria")
    profile(maria, skills=["  Προμήθειες ", "ΠΡΟΜΗΘΕΙΕΣ", "προμηθειες", "GIS", "gis", "", "  ", "Δημόσιες   συμβάσεις"])
    assert [skill.name for skill in maria.skills] == ["GIS", "Δημόσιες συμβάσεις", "Προμήθειες"]
    assert db.session.scalar(select(func.count()).select_from(Skill)) == 3
    assert {skill.key for skill in maria.skills} == {"gis", "δημοσιεσ συμβασεισ", "προμηθειεσ"}


def test_an_existing_skill_is_reused_with_its_first_spelling(make_user):
    maria, nikos = make_user("maria"), make_user("nikos")
    profile(maria, skills=["Προμήθειες"])
    profile(nikos, skills=["ΠΡΟΜΗΘΕΙΕΣ"])
    assert nikos.skills[0].id == maria.skills[0].id and nikos.skills[0].name == "Προμήθειες"
    profile(maria, skills=["GIS"])  # dropping a skill keeps it for the others
    assert [skill.name for skill in nikos.skills] == ["Προμήθειες"] and people.find_skill("προμηθειες")


@pytest.mark.parametrize(("skills", "fragment"), [
    ([f"skill {n}" for n in range(31)], "at most 30"),
    (["x" * 61], "longer than 60"),
    (["GIS, QGIS"], "comma"),
    (["GIS\x00"], "cannot be stored"),
    (["!!!"], "letter or digit"),
    ([42], "must be text"),
])
def test_skills_outside_the_limits_are_refused(make_user, skills, fragment):
    maria = make_user("maria")
    with pytest.raises(Invalid) as refused:
        people.update_profile(maria, maria, ProfileInput(skills=skills))
    with force_locale("en"):
        assert fragment in refused.value.message and field_of(refused) == "skills"


def test_thirty_skills_of_sixty_characters_are_allowed(make_user):
    maria = make_user("maria")
    names = [f"{n:02d}" + "α" * 58 for n in range(30)]
    profile(maria, skills=names + [names[0].upper()])  # a repeat does not count twice
    assert len(maria.skills) == 30


# The other fields -------------------------------------------------------------------------------

def test_about_languages_and_visibility_are_normalised(make_user):
    maria = make_user("maria")
    profile(maria, about="  Διαγωνισμοί\r\nκαι ΕΣΠΑ\r ", languages=["fr", "el", "fr", "en"], visibility="network")
    assert maria.about == "Διαγωνισμοί\nκαι ΕΣΠΑ"
    assert maria.languages == "el en fr"  # the list's order, each once
    assert maria.profile_visibility == "network"


@pytest.mark.parametrize(("fields", "field"), [
    ({"about": "α" * 2001}, "about"),
    ({"about": "null\x00byte"}, "about"),
    ({"languages": ["el", "klingon"]}, "languages"),
    ({"visibility": "public"}, "visibility"),
    ({"visibility": "private"}, "visibility"),
])
def test_invalid_fields_are_refused_naming_the_field(make_user, fields, field):
    maria = make_user("maria")
    with pytest.raises(Invalid) as refused:
        people.update_profile(maria, maria, ProfileInput(**fields))
    assert field_of(refused) == field


def test_about_may_have_2000_characters_after_line_endings_are_counted_once(make_user):
    maria = make_user("maria")
    profile(maria, about="α\r\n" * 1000)  # 3000 characters as sent, 1999 as stored
    assert len(maria.about) == 1999


def test_a_change_bumps_the_date_and_queues_the_index_update(make_user):
    maria = make_user("maria")
    before = maria.profile_updated_at
    db.session.execute(Job.__table__.delete())
    profile(maria, skills=["GIS"])
    assert maria.profile_updated_at > before
    [job] = db.session.scalars(select(Job).where(Job.kind == "search.index"))
    assert job.payload["type"] == "auth.person" and job.payload["id"] == maria.id
    assert job.payload["uri"].endswith("/people/maria")


# Permissions ------------------------------------------------------------------------------------

def test_a_reader_cannot_change_someone_elses_profile_and_an_admin_can(make_user):
    maria, nikos, admin = make_user("maria"), make_user("nikos", role="editor"), make_user("root", role="admin")
    with pytest.raises(Forbidden):
        people.update_profile(nikos, maria, ProfileInput(about="Τίποτα"))
    with pytest.raises(Forbidden):
        people.remove_photo(nikos, maria)
    with pytest.raises(Unauthorized):
        people.update_profile(None, maria, ProfileInput())
    profile(maria, actor=admin, about="Ό,τι χρειαστείτε")
    assert maria.about == "Ό,τι χρειαστείτε"
    assert people.can_edit_profile(maria, maria) and people.can_edit_profile(admin, maria)
    assert not people.can_edit_profile(nikos, maria)


def test_profiles_are_for_signed_in_staff_and_people_who_left_keep_theirs(make_user):
    maria, nikos = make_user("maria"), make_user("nikos")
    nikos.active = False
    db.session.commit()
    assert people.get_person(maria, "nikos") is nikos  # still there, so what they wrote stays attributed
    with pytest.raises(Unauthorized):
        people.get_person(None, "nikos")
    with pytest.raises(NotFound):
        people.get_person(maria, "nobody")


# Suggestions -------------------------------------------------------------------------------------

def test_suggestions_match_word_starts_and_rank_by_how_many_people_have_them(make_user):
    staff = [make_user(f"user{n}") for n in range(4)]
    profile(staff[0], skills=["Προμήθειες", "Δημόσιες προμήθειες", "GIS"])
    profile(staff[1], skills=["Δημόσιες προμήθειες", "Προγραμματισμός"])
    profile(staff[2], skills=["δημόσιες ΠΡΟΜΗΘΕΙΕΣ", "Προγραμματισμός"])
    profile(staff[3], skills=["Προγραμματισμός"])
    ranked = [(skill.name, count) for skill, count in people.skill_suggestions("ΠΡΟ")]
    # Equally common skills in the order of their folded names.
    assert ranked == [("Δημόσιες προμήθειες", 3), ("Προγραμματισμός", 3), ("Προμήθειες", 1)]
    assert [skill.name for skill, _count in people.skill_suggestions("προμ")] == ["Δημόσιες προμήθειες", "Προμήθειες"]
    assert [skill.name for skill, _count in people.skill_suggestions("προ", limit=1)] == ["Δημόσιες προμήθειες"]
    assert people.skill_suggestions("") == [] and people.skill_suggestions("%") == []
    assert people.skill_suggestions("ρομ") == []  # the start of a word, not any part of it


def test_suggestions_count_only_people_who_still_work_here(make_user):
    maria, nikos = make_user("maria"), make_user("nikos")
    profile(maria, skills=["GIS", "ΕΣΠΑ"])
    profile(nikos, skills=["ΕΣΠΑ"])
    profile(maria, skills=["ΕΣΠΑ"])  # nobody has GIS any more
    nikos.active = False
    db.session.commit()
    assert [(skill.name, count) for skill, count in people.skill_suggestions("εσ")] == [("ΕΣΠΑ", 1)]
    assert people.skill_suggestions("gis") == []
    assert [(skill.name, count) for skill, count in people.skill_counts()] == [("ΕΣΠΑ", 1)]


def test_people_with_a_skill(make_user):
    maria, nikos, eleni = make_user("maria"), make_user("nikos"), make_user("eleni")
    for person in (maria, nikos, eleni):
        profile(person, skills=["Προμήθειες"])
    eleni.active = False
    db.session.commit()
    listed, total = people.people_with_skill(people.find_skill("ΠΡΟΜΗΘΕΙΕΣ"), 1, 10)
    assert total == 2 and [person.username for person in listed] == ["maria", "nikos"]
    listed, total = people.people_with_skill(people.find_skill("προμήθειες"), 2, 1)
    assert total == 2 and [person.username for person in listed] == ["nikos"]
    assert people.find_skill("άγνωστο") is None


# Who knows about… --------------------------------------------------------------------------------

@pytest.fixture
def staff(make_user, units):
    maria, nikos, eleni = make_user("maria"), make_user("nikos"), make_user("eleni")
    maria.display_name, maria.title, maria.department = "Μαρία Παπαδοπούλου", "Προϊσταμένη", units["tenders"]
    nikos.display_name, nikos.title, nikos.department = "Νίκος Γεωργίου", "Μηχανικός", units["technical"]
    eleni.display_name, eleni.department = "Ελένη Νικολάου", units["procurement"]
    db.session.commit()
    profile(maria, skills=["Προμήθειες", "Διαγωνισμοί"], about="Ηλεκτρονικοί διαγωνισμοί στο ΕΣΗΔΗΣ.",
            languages=["el", "fr"])
    profile(nikos, skills=["GIS", "Οδοποιία"], about="Χάρτες και τοπογραφικά.")
    profile(eleni, skills=["Μισθοδοσία"])
    jobs.run_pending()
    return {"maria": maria, "nikos": nikos, "eleni": eleni}


def usernames(found) -> list[str]:
    return [hit.person.username for hit in found.people]


@pytest.mark.parametrize(("query", "expected"), [
    ("προμηθειες", ["maria", "eleni"]),  # maria has the skill; eleni works in the procurement department
    ("ΠΡΟΜΗΘΕΙΕΣ", ["maria", "eleni"]),
    ("Προμήθεια", ["eleni", "maria"]),  # the singular: no skill is spelt so; the shorter profile first
    ("εσηδησ", ["maria"]),
    ("προϊσταμένη", ["maria"]),
    ("Γραφείο Διαγωνισμών", ["maria"]),
    ("ελληνικα", ["maria"]),
    ("greek", ["maria"]),
    ("French", ["maria"]),
    ("μαρια", ["maria"]),
    ("τοπογραφικα", ["nikos"]),
])
def test_who_knows_finds_people_whatever_the_accents_and_case(staff, query, expected):
    found = people.who_knows(staff["nikos"], query, 1, 10)
    assert usernames(found) == expected and found.total == len(expected)


def test_who_knows_ranks_and_shows_what_matched(staff):
    found = people.who_knows(staff["maria"], "χάρτες OR gis", 1, 10)
    assert usernames(found) == ["nikos"]
    assert '<mark class="match">GIS</mark>' in found.people[0].snippet
    assert people.who_knows(staff["maria"], "κανείς δεν ξέρει", 1, 10).total == 0


def test_who_knows_leaves_out_people_who_have_left(staff):
    staff["maria"].active = False
    db.session.commit()
    found = people.who_knows(staff["nikos"], "ΕΣΗΔΗΣ", 1, 10)
    assert found.total == 1 and usernames(found) == []  # the index has not followed yet
    jobs.run_pending()
    assert people.who_knows(staff["nikos"], "ΕΣΗΔΗΣ", 1, 10).total == 0


def test_the_search_document_of_a_person(staff, app):
    document = person_content.search_document(staff["maria"].id)
    assert document.type == "person" and document.title == "Μαρία Παπαδοπούλου"
    assert document.uri == app.config["KNET"]["url"] + "/people/maria"
    assert document.tags == ("Διαγωνισμοί", "Προμήθειες") and document.author == str(staff["maria"].id)
    assert document.visibility == "internal"
    for part in ("Προϊσταμένη", "Διεύθυνση Οικονομικών › Τμήμα Προμηθειών › Γραφείο Διαγωνισμών", "ΕΣΗΔΗΣ",
                 "Ελληνικά", "Greek", "French"):
        assert part in document.body
    staff["maria"].active = False
    assert person_content.search_document(staff["maria"].id) is None
    assert staff["maria"].id not in person_content.indexable_ids()


# Departments ------------------------------------------------------------------------------------

def test_the_department_tree_counts_people_of_sub_units(staff, units, make_user):
    gone = make_user("gone")
    gone.department, gone.active = units["tenders"], False
    db.session.commit()
    tree = people.department_tree()
    assert [node.department.name for node in tree] == ["Διεύθυνση Οικονομικών", "Τεχνικές Υπηρεσίες"]
    finance = tree[0]
    assert (finance.people, finance.total) == (0, 2)
    [procurement] = finance.children
    assert (procurement.people, procurement.total) == (1, 2)
    assert (procurement.children[0].people, procurement.children[0].total) == (1, 1)
    assert people.department_node(units["procurement"]).total == 2


def test_department_people_with_and_without_sub_units(staff, units, make_user):
    assert [p.username for p in people.department_people(units["finance"])] == ["eleni", "maria"]
    assert [p.username for p in people.department_people(units["procurement"])] == ["eleni", "maria"]
    assert [p.username for p in people.department_people(units["procurement"], include_sub_units=False)] == ["eleni"]
    assert people.department_people(units["finance"], include_sub_units=False) == []
    assert [unit.name for unit in people.sub_units(units["finance"])] == ["Τμήμα Προμηθειών", "Γραφείο Διαγωνισμών"]
    with pytest.raises(NotFound):
        people.get_department(9999)


def test_everyone_is_listed_by_name_without_people_who_left(staff):
    staff["nikos"].active = False
    db.session.commit()
    listed, total = people.list_people(1, 10)
    assert total == 2 and [person.name for person in listed] == ["Ελένη Νικολάου", "Μαρία Παπαδοπούλου"]


# The index follows every change, whoever makes it ---------------------------------------------

def queued_people() -> list[int]:
    return sorted(job.payload["id"] for job in db.session.scalars(
        select(Job).where(Job.kind == "search.index", Job.state == jobs.PENDING))
        if job.payload["type"] == "auth.person")


def test_the_index_follows_changes_made_outside_the_profile_services(staff, units, make_user):
    assert queued_people() == []
    newcomer = make_user("newcomer")  # as `knet user` or a first sign-in through the directory would
    assert queued_people() == [newcomer.id]
    jobs.run_pending()

    staff["nikos"].last_sign_in_at = staff["nikos"].created_at  # nothing a profile shows
    staff["nikos"].session_epoch += 1
    db.session.commit()
    assert queued_people() == []

    staff["nikos"].title = "Πολιτικός μηχανικός"  # as a directory sync would
    db.session.commit()
    assert queued_people() == [staff["nikos"].id]
    jobs.run_pending()
    assert usernames(people.who_knows(staff["maria"], "πολιτικος", 1, 10)) == ["nikos"]

    units["finance"].name = "Διεύθυνση Οικονομικών Υπηρεσιών"  # everyone below it shows the new name
    db.session.commit()
    assert queued_people() == sorted([staff["maria"].id, staff["eleni"].id])
    jobs.run_pending()
    found = people.who_knows(staff["nikos"], "οικονομικων υπηρεσιων", 1, 10)
    assert sorted(usernames(found)) == ["eleni", "maria"]


def test_a_rolled_back_change_queues_nothing(staff):
    staff["nikos"].title = "Κάτι άλλο"
    db.session.flush()
    db.session.rollback()
    staff["eleni"].session_epoch += 1
    db.session.commit()
    assert queued_people() == []
