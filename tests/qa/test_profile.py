"""A person's questions and answers on their profile, as the viewer may see them."""
from __future__ import annotations

from qa import moderation, services
from qa.profile import contribution


def test_a_profile_counts_questions_answers_accepted_and_the_tags_answered_most(app, make_user, make_question,
                                                                               make_answer):
    asker, helper, viewer = (make_user(name, role="reader") for name in ("asker", "helper", "viewer"))
    moderator = make_user("mod", role="moderator")
    gis = make_question(asker, title="Ποιο λογισμικό GIS προτείνετε;", tags=["GIS"])
    maps = make_question(asker, title="Πώς δημοσιεύουμε χάρτες του δήμου;", tags=["GIS", "Χάρτες"])
    money = make_question(asker, title="Πότε πληρώνονται οι υπερωρίες;", tags=["Μισθοδοσία"])
    secret = make_question(asker, title="Ιδιωτική ερώτηση για τους χάρτες", tags=["Χάρτες"], visibility="private")
    for question in (gis, maps, money):
        make_answer(helper, question, "Μια απάντηση με εμπειρία.")
    services.accept(asker, gis.answers[0])
    hidden = make_answer(helper, maps, "Δεύτερη απάντηση.")
    moderation.hide(moderator, "answer", hidden.id, "Επανάληψη")

    work = contribution(helper, viewer)
    assert (work.questions, work.answers, work.accepted) == (0, 3, 1)
    assert [(tag.name, count) for tag, count in work.top_tags][:1] == [("GIS", 2)]
    assert contribution(asker, viewer).questions == 3  # the private one is not the viewer's to count
    assert contribution(asker, asker).questions == 4
    assert secret.id


def test_the_profile_page_shows_the_panel(app, make_user, make_question, make_answer, sign_in):
    asker, helper = make_user("asker", role="reader"), make_user("helper", role="reader")
    make_answer(helper, make_question(asker))
    page = sign_in(asker).get("/people/helper").get_data(as_text=True)
    assert 'id="qa-work-heading"' in page
