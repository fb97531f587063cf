"""The learner's pages (learning/routes.py), driven through the test client like a browser: the catalogue
and its filters, a course's page for each kind of viewer, enrolling with the form's CSRF token, the
lessons step by step, "My learning", bad addresses, and the XSS corpus through every course text."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from knet import jobs
from knet.db import db
from qa import communities
from learning import courses, progress, structure, versions
from learning.courses import CourseInput
from learning.models import Enrolment
from learning.routes import course_duration
from learning.structure import OptionInput, QuestionInput
from tests import xss
from tests.forms import csrf_token
from tests.xss import XSS_CHUNK, dangers, quietly, xss_cases

COMMUNITY = "http://127.0.0.1:5000/communities/1"


@pytest.fixture
def people(make_user):
    tina = make_user("tina", role="trainer")
    tina.display_name = "Τίνα Εκπαιδεύτρια"
    db.session.commit()
    return {"trainer": tina, "learner": make_user("lena", role="reader"), "reader": make_user("rea", role="reader"),
            "other_trainer": make_user("otto", role="trainer")}




def text(response) -> str:
    return response.get_data(as_text=True)


def main(response) -> str:
    """The page's own part, without the header and footer every page shares."""
    html = text(response)
    return html[html.index('<main'):html.index('</main>')]


def titles(response) -> list[str]:
    return re.findall(r'<h2><a href="/learning/courses/\d+" lang="\w+">([^<]*)</a></h2>', text(response))


def enrol(client, course_id: int):
    token = csrf_token(text(client.get(f"/learning/courses/{course_id}")))
    return client.post(f"/learning/courses/{course_id}/enrol", data={"csrf_token": token})


def steps(course) -> list[str]:
    return [step.item["key"] for step in progress.outline(course, None).steps]


@pytest.fixture
def shelf(people, make_course):
    """A public course (90 minutes, tagged, in a community), an internal one, a short English one, a
    long one that needs the public one first, a draft and a private course of another trainer."""
    tina, otto = people["trainer"], people["other_trainer"]
    made = {
        "public": make_course(tina, "Δημόσιες συμβάσεις για αρχάριους", visibility="public", estimated_minutes=90,
                              tags=["Προμήθειες", "ΕΣΗΔΗΣ"], community_uri=COMMUNITY,
                              description="Ό,τι χρειάζεται για **απευθείας αναθέσεις**."),
        "internal": make_course(tina, "Εσωτερικός κανονισμός προσωπικού", visibility="internal",
                                estimated_minutes=30),
        "english": make_course(tina, "GIS for planners", visibility="internal", language="en", estimated_minutes=45,
                               lessons=1, quiz=False),
    }
    made["long"] = make_course(tina, "Προχωρημένες προμήθειες", visibility="internal", estimated_minutes=600,
                               tags=["προμηθειες"], prerequisites=[made["public"].id])
    made["draft"] = make_course(tina, "Πρόχειρο μάθημα για την πυρασφάλεια", visibility="public", publish=False)
    made["private"] = make_course(otto, "Ιδιωτικό μάθημα του Όττο", visibility="private")
    jobs.run_pending()
    return made


# The catalogue ------------------------------------------------------------------------------------

def test_the_courses_link_is_in_the_navigation(browse):
    assert '<a href="/learning/courses">Courses</a>' in text(browse(None).get("/"))


def test_each_viewer_sees_the_published_courses_they_may_see(people, shelf, browse):
    anonymous = browse(None).get("/learning/courses")
    assert anonymous.status_code == 200
    assert titles(anonymous) == ["Δημόσιες συμβάσεις για αρχάριους"]
    assert "Sign in to enrol in courses" in text(anonymous)

    seen = titles(browse(people["reader"]).get("/learning/courses"))
    assert sorted(seen) == sorted(["Δημόσιες συμβάσεις για αρχάριους", "Εσωτερικός κανονισμός προσωπικού",
                                   "GIS for planners", "Προχωρημένες προμήθειες"])
    assert seen[0] == "Προχωρημένες προμήθειες"  # the most recently published first
    # Drafts are in no catalogue, not even their trainer's; a private course only in its trainer's.
    assert "Πρόχειρο" not in text(browse(people["trainer"]).get("/learning/courses"))
    assert "Ιδιωτικό" not in text(browse(people["trainer"]).get("/learning/courses"))
    assert "Ιδιωτικό μάθημα του Όττο" in titles(browse(people["other_trainer"]).get("/learning/courses"))


def test_a_course_in_the_list_says_what_it_is(people, shelf, browse):
    page = main(browse(people["reader"]).get("/learning/courses?tag=ΕΣΗΔΗΣ"))
    assert "Τα βασικά των προμηθειών." in page  # the summary
    assert "Language: Greek" in page and "Estimated duration: 1 hour 30 minutes" in page
    assert 'Trainer: <a href="/people/tina">Τίνα Εκπαιδεύτρια</a>' in page
    assert '>Προμήθειες</a>' in page and '>ΕΣΗΔΗΣ</a>' in page
    assert "You are enrolled" not in page
    enrol(browse(people["reader"]), shelf["public"].id)
    assert "You are enrolled" in main(browse(people["reader"]).get("/learning/courses?tag=ΕΣΗΔΗΣ"))


def test_durations_are_said_in_words(app):
    with app.test_request_context(headers={"Cookie": "knet_lang=en"}):
        assert [course_duration(m) for m in (45, 60, 90, 150, 1)] == [
            "45 minutes", "1 hour", "1 hour 30 minutes", "2 hours 30 minutes", "1 minute"]


@pytest.mark.parametrize("query, expected", [
    ("language=en", ["GIS for planners"]),
    ("tag=ΠΡΟΜΗΘΕΙΕΣ", ["Προχωρημένες προμήθειες", "Δημόσιες συμβάσεις για αρχάριους"]),
    ("tag=εσηδης", ["Δημόσιες συμβάσεις για αρχάριους"]),
    (f"community={COMMUNITY}", ["Δημόσιες συμβάσεις για αρχάριους"]),
    ("duration=short", ["GIS for planners", "Εσωτερικός κανονισμός προσωπικού"]),
    ("duration=medium", ["Δημόσιες συμβάσεις για αρχάριους"]),
    ("duration=long", ["Προχωρημένες προμήθειες"]),
    ("duration=short&language=el", ["Εσωτερικός κανονισμός προσωπικού"]),
    ("order=title", ["GIS for planners", "Δημόσιες συμβάσεις για αρχάριους", "Εσωτερικός κανονισμός προσωπικού",
                     "Προχωρημένες προμήθειες"]),
    ("q=αρχαριους", ["Δημόσιες συμβάσεις για αρχάριους"]),
    ("q=κανονισμος", ["Εσωτερικός κανονισμός προσωπικού"]),
    ("q=αναθεσεις", ["Δημόσιες συμβάσεις για αρχάριους"]),  # the description is searched
    ("q=μαθημα&language=en", ["GIS for planners"]),  # and the titles of the lessons
    ("q=πυρασφαλεια", []),  # a draft is not found
    ("q=προμηθειων&order=title", ["GIS for planners", "Δημόσιες συμβάσεις για αρχάριους",
                                  "Εσωτερικός κανονισμός προσωπικού", "Προχωρημένες προμήθειες"]),
    ("tag=nothing-like-it", []), ("community=https://elsewhere.example/communities/1", []),
])
def test_the_catalogue_narrows_by_language_tag_community_duration_and_words(people, shelf, browse, query,
                                                                           expected):
    response = browse(people["reader"]).get(f"/learning/courses?{query}")
    assert response.status_code == 200
    assert titles(response) == expected
    assert ("Show every course" in text(response)) == (not query.startswith("order="))
    if not expected:
        assert "No courses match." in text(response)


def test_the_search_ranks_the_best_match_first(people, shelf, browse):
    page = browse(people["reader"]).get("/learning/courses?q=προμηθειες")
    assert len(titles(page)) == 4  # every summary speaks of them
    assert titles(page)[0] == "Προχωρημένες προμήθειες"  # in its title
    assert '<option value="relevance" selected>Best match first</option>' in text(page)
    assert "Best match first" not in text(browse(people["reader"]).get("/learning/courses"))


@pytest.mark.parametrize("query", ["language=fr", "duration=forever", "order=random", "page=-3", "page=99999999999",
                                   "tag=%00", "q=%00%01", "community=" + "x" * 2000, "q=" + "λέξη " * 300,
                                   "q=*", "q=\"", "q=-προμηθειες"])
def test_odd_catalogue_addresses_never_fail(people, shelf, browse, query):
    response = browse(None).get(f"/learning/courses?{query}")
    assert response.status_code == 200, query


def test_the_catalogue_pages(app, people, make_course, browse):
    app.config["KNET"]["page_size"] = 2
    for number in range(5):
        make_course(people["trainer"], f"Μάθημα αριθμός {number}", visibility="public", lessons=1, quiz=False)
    client = browse(None)
    first, last = client.get("/learning/courses?order=title"), client.get("/learning/courses?order=title&page=3")
    assert titles(first) == ["Μάθημα αριθμός 0", "Μάθημα αριθμός 1"] and titles(last) == ["Μάθημα αριθμός 4"]
    assert "Page 1 of 3" in text(first) and 'href="/learning/courses?page=2&amp;order=title"' in text(first)


def test_the_community_filter_names_the_communities_people_may_see(app, people, browse, make_course, make_user):
    moderator = make_user("mona", role="moderator")
    community = communities.create_community(moderator, "Προμήθειες", "Για τις προμήθειες.", "public")
    db.session.commit()
    uri = communities.community_uri(community.id)
    course = make_course(people["trainer"], "Μάθημα της κοινότητας", visibility="public", community_uri=uri)
    client = browse(None)
    page = text(client.get("/learning/courses"))
    assert f'<option value="{uri}">Προμήθειες</option>' in page
    assert titles(client.get("/learning/courses", query_string={"community": uri})) == ["Μάθημα της κοινότητας"]
    course_page = main(client.get(f"/learning/courses/{course.id}"))
    assert f'<a href="{uri}">Προμήθειες</a>' in course_page

    # An internal community is named only to those who may see it.
    staff = communities.create_community(moderator, "Ύδρευση", "Για το νερό.", "internal")
    db.session.commit()
    make_course(people["trainer"], "Μάθημα για το νερό", visibility="public",
                community_uri=communities.community_uri(staff.id))
    assert "Ύδρευση" not in text(client.get("/learning/courses"))
    assert ">Ύδρευση</option>" in text(browse(people["reader"]).get("/learning/courses"))


def test_a_community_page_lists_the_courses_of_the_community_each_viewer_may_see(app, people, browse, make_course,
                                                                                 make_user):
    moderator = make_user("mona", role="moderator")
    community = communities.create_community(moderator, "Προμήθειες", "Για τις προμήθειες.", "public")
    empty = communities.create_community(moderator, "Ύδρευση", "Για το νερό.", "public")
    db.session.commit()
    uri = communities.community_uri(community.id)
    public = make_course(people["trainer"], "Δημόσιο μάθημα", visibility="public", community_uri=uri)
    make_course(people["trainer"], "Εσωτερικό μάθημα", visibility="internal", community_uri=uri)
    make_course(people["trainer"], "Πρόχειρο μάθημα", visibility="public", community_uri=uri, publish=False)
    make_course(people["trainer"], "Ιδιωτικό μάθημα", visibility="private", community_uri=uri)
    make_course(people["trainer"], "Μάθημα χωρίς κοινότητα", visibility="public")

    def listed(client, slug: str) -> list[str]:
        page = main(client.get(f"/communities/{slug}"))
        section = page[page.index('id="courses-heading"'):]
        return re.findall(r'<a href="/learning/courses/\d+" lang="el">([^<]*)</a>', section[:section.index("</section>")])

    assert listed(browse(None), community.slug) == ["Δημόσιο μάθημα"]
    assert listed(browse(people["reader"]), community.slug) == ["Εσωτερικό μάθημα", "Δημόσιο μάθημα"]
    assert listed(browse(people["trainer"]), community.slug) == ["Ιδιωτικό μάθημα", "Εσωτερικό μάθημα",
                                                                  "Δημόσιο μάθημα"]
    page = main(browse(None).get(f"/communities/{community.slug}"))
    link = re.search(r'<a href="(/learning/courses\?community=[^"]+)">Every course of this community', page).group(1)
    assert titles(browse(None).get(link.replace("&amp;", "&"))) == ["Δημόσιο μάθημα"]
    assert f'href="/learning/courses/{public.id}"' in page
    assert "No published course belongs to this community yet." in main(browse(None).get(f"/communities/{empty.slug}"))


# A course's page ----------------------------------------------------------------------------------

def test_anyone_reads_a_public_course_and_is_asked_to_sign_in_to_enrol(people, shelf, browse):
    course = shelf["public"]
    page = main(browse(None).get(f"/learning/courses/{course.id}"))
    assert "Δημόσιες συμβάσεις για αρχάριους" in page
    assert "<strong>απευθείας αναθέσεις</strong>" in page  # the description, as sanitised HTML
    assert "Sign in to enrol in this course" in page and 'id="enrol"' not in page
    assert "Module 1: <span lang=\"el\">Εισαγωγή</span>" in page
    assert "Μάθημα 1" in page and "(quiz, pass mark 50%)" in page
    assert "To complete this course, read every lesson and pass every quiz." in page
    assert "Estimated duration" in page and "1 hour 30 minutes" in page and "CC BY 4.0" in page
    assert "Τίνα Εκπαιδεύτρια" in page and "Your progress" not in page
    assert "/steps/" not in page  # the steps are for those enrolled


def test_internal_private_and_draft_courses_are_hidden_from_those_who_may_not_see_them(people, shelf, browse):
    anonymous, reader = browse(None), browse(people["reader"])
    for client, course in ((anonymous, shelf["internal"]), (reader, shelf["private"]), (reader, shelf["draft"]),
                           (anonymous, shelf["draft"])):
        response = client.get(f"/learning/courses/{course.id}")
        assert response.status_code == 404
        assert "There is no such course, or you may not see it." in text(response)
        assert course.title not in text(response)
    assert reader.get(f"/learning/courses/{shelf['internal'].id}").status_code == 200


def test_a_trainer_sees_their_draft_marked_as_such_with_a_link_to_edit_it(app, people, shelf, browse):
    trainer = browse(people["trainer"])
    draft = main(trainer.get(f"/learning/courses/{shelf['draft'].id}"))
    assert "Draft: learners do not see this yet." in draft
    assert "Learners can enrol once the course is published." in draft and 'id="enrol"' not in draft
    assert "Μάθημα 1" in draft  # the outline of the working copy
    if "learning_trainer.edit" in app.view_functions:
        assert f'href="/learning/courses/{shelf["draft"].id}/edit"' in draft
        assert f'href="/learning/courses/{shelf["public"].id}/edit"' \
            in main(trainer.get(f"/learning/courses/{shelf['public'].id}"))
    assert "/edit" not in main(browse(people["reader"]).get(f"/learning/courses/{shelf['public'].id}"))
    assert "Draft" not in main(browse(people["reader"]).get(f"/learning/courses/{shelf['public'].id}"))


def test_learners_read_the_published_version_while_the_trainer_edits(people, shelf, browse):
    course, tina = shelf["public"], people["trainer"]
    courses.update_course(tina, course, CourseInput(title="Νέος τίτλος που δεν δημοσιεύτηκε", visibility="public"))
    structure.add_lesson(tina, course.modules[0], "Μάθημα που δεν δημοσιεύτηκε", "Κείμενο.")
    db.session.commit()
    page = main(browse(people["reader"]).get(f"/learning/courses/{course.id}"))
    assert "Δημόσιες συμβάσεις για αρχάριους" in page and "δεν δημοσιεύτηκε" not in page
    assert "Δημόσιες συμβάσεις για αρχάριους" in titles(browse(people["reader"]).get("/learning/courses"))
    assert "learners see version 1" in main(browse(tina).get(f"/learning/courses/{course.id}"))


def test_a_learner_enrols_reads_and_sees_the_progress(people, shelf, browse):
    course, client = shelf["public"], browse(people["learner"])
    page = main(client.get(f"/learning/courses/{course.id}"))
    assert 'id="enrol"' in page and "Taking this course" in page

    enrolled = enrol(client, course.id)
    assert enrolled.status_code == 302 and enrolled.location.endswith(f"/learning/courses/{course.id}")
    page = main(client.get(enrolled.location))
    assert "You are enrolled in “Δημόσιες συμβάσεις για αρχάριους”." in page
    assert "0 of 3 steps done (0%)" in page and '<progress id="course-progress" value="0" max="3"' in page
    first, second, quiz = steps(course)
    assert f'id="resume" href="/learning/courses/{course.id}/steps/{first}">Start with the first step' in page
    assert page.count("not done yet") == 3 and 'id="enrol"' not in page

    lesson = main(client.get(f"/learning/courses/{course.id}/steps/{first}"))
    assert "Το κείμενο του μαθήματος 1." in lesson and "Step 1 of 3" in lesson
    assert "1 of 3 steps done (33%)" in lesson
    assert f'id="next-step" rel="next" href="/learning/courses/{course.id}/steps/{second}"' in lesson
    assert 'id="previous-step"' not in lesson

    lesson = main(client.get(f"/learning/courses/{course.id}/steps/{second}"))
    assert "Step 2 of 3" in lesson and "2 of 3 steps done (67%)" in lesson
    assert f'id="previous-step" rel="prev" href="/learning/courses/{course.id}/steps/{first}"' in lesson
    assert f'href="/learning/courses/{course.id}/steps/{quiz}"' in lesson

    page = main(client.get(f"/learning/courses/{course.id}"))
    assert "2 of 3 steps done (67%)" in page and "Continue where you left off" in page
    assert f'id="resume" href="/learning/courses/{course.id}/steps/{second}"' in page
    assert page.count("not done yet") == 1

    again = enrol(client, course.id)  # enrolling twice changes nothing
    assert again.status_code == 302 and "You were already enrolled" in main(client.get(again.location))


def test_a_quiz_step_introduces_the_quiz_and_links_to_it(people, make_quiz, browse):
    made = make_quiz(people["trainer"])
    client = browse(people["learner"])
    enrol(client, made.course.id)
    page = main(client.get(f"/learning/courses/{made.course.id}/steps/{made.quiz}"))
    assert "Quiz: <span lang=\"el\">Τεστ προμηθειών</span>" in page and "Απαντήστε σε όλες." in page
    assert "4 questions" in page and "Pass mark: 75%" in page and "As many attempts as you like" in page
    assert "You have not passed this quiz yet." in page
    assert f'id="open-quiz" href="/learning/courses/{made.course.id}/quizzes/{made.quiz}"' in page
    assert "30.000 €" not in page  # no question, option or answer before the quiz page
    assert 'id="next-step"' not in page and 'id="previous-step"' in page
    assert "0 of 2 steps done (0%)" in page  # opening a quiz does not pass it


def test_lessons_are_for_enrolled_learners(people, shelf, browse):
    course = shelf["public"]
    first = steps(course)[0]
    for client in (browse(None), browse(people["reader"])):
        response = client.get(f"/learning/courses/{course.id}/steps/{first}")
        assert response.status_code == 302 and response.location.endswith(f"/learning/courses/{course.id}")
        assert "Enrol in this course to read its lessons" in main(client.get(response.location))
    assert db.session.scalar(select(func.count(Enrolment.id))) == 0


def test_a_missing_prerequisite_is_said_instead_of_the_enrol_button(people, shelf, browse, complete_course):
    client, advanced = browse(people["learner"]), shelf["long"]
    page = main(client.get(f"/learning/courses/{advanced.id}"))
    assert "Complete “Δημόσιες συμβάσεις για αρχάριους” first: this course builds on it." in page
    assert 'id="enrol"' not in page and "not done yet" in page
    assert f'href="/learning/courses/{shelf["public"].id}"' in page
    # Posting anyway is refused with the same sentence.
    token = csrf_token(text(client.get(f"/learning/courses/{shelf['public'].id}")))
    refused = client.post(f"/learning/courses/{advanced.id}/enrol", data={"csrf_token": token})
    assert refused.status_code == 302
    assert "this course builds on it" in main(client.get(refused.location))
    assert progress.enrolment_of(people["learner"], advanced) is None

    complete_course(people["learner"], shelf["public"])
    page = main(client.get(f"/learning/courses/{advanced.id}"))
    assert 'id="enrol"' in page and "— <strong>done</strong>" in page


def test_enrolling_needs_the_form_token_and_a_signed_in_person(people, shelf, browse):
    course = shelf["public"]
    forged = browse(people["learner"]).post(f"/learning/courses/{course.id}/enrol")
    assert forged.status_code == 400 and "<title>" in text(forged)
    anonymous = browse(None)
    token = csrf_token(text(anonymous.get("/login")))
    response = anonymous.post(f"/learning/courses/{course.id}/enrol", data={"csrf_token": token})
    assert response.status_code == 302 and "/login" in response.location
    assert db.session.scalar(select(func.count(Enrolment.id))) == 0


@pytest.mark.parametrize("path", ["/learning/courses/999", "/learning/courses/0", "/learning/courses/2147483648",
                                  "/learning/courses/99999999999999999999999",
                                  "/learning/courses/999/steps/abc", "/learning/courses/1/steps/nosuchstep",
                                  "/learning/courses/1/steps/" + "k" * 300])
def test_unknown_courses_and_steps_are_404_with_a_sentence(people, shelf, browse, path):
    client = browse(people["learner"])
    enrol(client, shelf["public"].id)
    response = client.get(path)
    assert response.status_code == 404
    assert "There is no such course, or you may not see it." in text(response) \
        or "This course has no such lesson or quiz." in text(response)


def test_bad_enrolments_are_refused_with_a_sentence(people, shelf, browse):
    client = browse(people["learner"])
    token = csrf_token(text(client.get("/learning/courses")))
    for course_id, status in ((999, 404), (2**31, 404), (shelf["draft"].id, 404), (shelf["private"].id, 404)):
        response = client.post(f"/learning/courses/{course_id}/enrol", data={"csrf_token": token})
        assert response.status_code == status and "There is no such course" in text(response)
    courses.set_state(people["trainer"], shelf["internal"], "archived")
    db.session.commit()
    closed = client.post(f"/learning/courses/{shelf['internal'].id}/enrol", data={"csrf_token": token})
    assert closed.status_code == 302
    page = main(client.get(closed.location))
    assert "is not open for enrolment" in page and "This course is archived." in page


# My learning --------------------------------------------------------------------------------------

def test_my_learning_shows_progress_completions_and_certificates(people, shelf, browse, complete_course):
    client = browse(people["learner"])
    anonymous = browse(None).get("/learning/mine")
    assert anonymous.status_code == 302 and "/login" in anonymous.location

    empty = main(client.get("/learning/mine"))
    assert "You are not taking any course at the moment." in empty and "You have no certificates yet" in empty

    enrol(client, shelf["internal"].id)
    client.get(f"/learning/courses/{shelf['internal'].id}/steps/{steps(shelf['internal'])[0]}")
    certificate = complete_course(people["learner"], shelf["public"])
    page = main(client.get("/learning/mine"))
    in_progress, completed = page.split('id="completed-heading"')[0], page.split('id="completed-heading"')[1]
    assert "Εσωτερικός κανονισμός προσωπικού" in in_progress and "1 of 3 steps done (33%)" in in_progress
    assert "Continue “Εσωτερικός κανονισμός προσωπικού” where you left off" in in_progress
    assert "Δημόσιες συμβάσεις για αρχάριους" in completed and "Completed on" in completed
    assert page.count(f'href="/learning/certificates/{certificate.id}"') == 2
    assert "Δημόσιες συμβάσεις για αρχάριους" not in in_progress

    course_page = main(client.get(f"/learning/courses/{shelf['public'].id}"))
    assert "3 of 3 steps done (100%)" in course_page and "You completed this course on" in course_page
    assert f'href="/learning/certificates/{certificate.id}">Your certificate' in course_page


def test_pages_follow_the_language_of_the_visitor(people, shelf, browse):
    for language in ("el", "en"):
        client = browse(people["learner"], language)
        enrol(client, shelf["public"].id)
        first = steps(shelf["public"])[0]
        for path in ("/learning/courses", f"/learning/courses/{shelf['public'].id}",
                     f"/learning/courses/{shelf['public'].id}/steps/{first}", "/learning/mine"):
            assert f'<html lang="{language}">' in text(client.get(path)), (language, path)


# Nothing from the XSS corpus can run ---------------------------------------------------------------

def _course_of(trainer, number: int, payload: str):
    """A public course whose every text the learner reads is the payload, where the services take it."""
    fields = dict(summary=payload[:500], description=payload, visibility="public", estimated_minutes=30)
    title = f"Μάθημα {number}: {payload}"[:courses.MAX_TITLE]
    course = (quietly(lambda: courses.create_course(trainer, CourseInput(title=title, tags=[payload[:50]], **fields)))
              or quietly(lambda: courses.create_course(trainer, CourseInput(title=title, **fields)))
              or quietly(lambda: courses.create_course(trainer, CourseInput(title=f"Μάθημα {number}",
                                                                              visibility="public"))))
    module = quietly(lambda: structure.add_module(trainer, course, payload[:200])) \
        or quietly(lambda: structure.add_module(trainer, course, f"Ενότητα {number}"))
    for kind in ("title", "body"):
        quietly(lambda: structure.add_lesson(trainer, module, payload[:200] if kind == "title" else f"Μάθημα {number}",
                                              payload if kind == "body" else "Κείμενο."))
    structure.add_lesson(trainer, module, f"Μάθημα {number}", "Κείμενο.")
    quiz = quietly(lambda: structure.add_quiz(trainer, module, payload[:200], payload, pass_percent=50)) \
        or quietly(lambda: structure.add_quiz(trainer, module, f"Τεστ {number}", payload, pass_percent=50)) \
        or structure.add_quiz(trainer, module, f"Τεστ {number}", "", pass_percent=50)
    structure.add_question(trainer, quiz, QuestionInput(kind="single", prompt="Ναι;", options=[
        OptionInput("Ναι", correct=True), OptionInput("Όχι")]))
    versions.publish(trainer, course)
    db.session.commit()
    return course


@pytest.mark.corpus_pages
@pytest.mark.parametrize("name, start", xss_cases())
def test_nothing_from_the_xss_corpus_runs_on_the_learners_pages(app, corpus, people, browse, name, start):
    payloads = xss.payloads(corpus, name)[start:start + XSS_CHUNK]
    app.config["KNET"]["page_size"] = 1000
    made = [_course_of(people["trainer"], number, payload) for number, payload in enumerate(payloads)]
    jobs.run_pending()
    learner, anonymous = browse(people["learner"]), browse(None)
    checked = [("catalogue", anonymous.get("/learning/courses")), ("catalogue", learner.get("/learning/courses"))]
    checked += [(f"tag {p[:40]!r}", learner.get("/learning/courses", query_string={"tag": p[:40]}))
                for p in payloads[:10]]
    checked += [(f"search {p[:40]!r}", learner.get("/learning/courses", query_string={"q": p[:100]}))
                for p in payloads[:10]]
    for course in made:
        checked.append((f"course {course.id}, anonymous", anonymous.get(f"/learning/courses/{course.id}")))
        enrol(learner, course.id)
        checked.append((f"course {course.id}, enrolled", learner.get(f"/learning/courses/{course.id}")))
        checked += [(f"step {key} of course {course.id}", learner.get(f"/learning/courses/{course.id}/steps/{key}"))
                    for key in steps(course)]
    checked.append(("my learning", learner.get("/learning/mine")))
    for label, response in checked:
        assert response.status_code == 200, (label, response.status_code)
        html = text(response)
        assert dangers(html) == [], label  # no <script>, on…= attribute or javascript: address
    assert len(made) == len(payloads)
