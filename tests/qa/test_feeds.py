"""Feeds of new questions (qa.feeds): of the node, and of each public community of practice."""
from __future__ import annotations

from urllib.parse import quote

from qa import communities
from knet.db import db
from tests.outward import MARKERS, content_of_every_visibility, hidden_markers, parsed


def test_new_questions_are_the_public_ones_newest_first(app, client, make_user, make_question):
    author = make_user("alice")
    content_of_every_visibility(app, author, make_user("tina", role="trainer"))
    make_question(author, title="Νεότερη δημόσια ερώτηση", visibility="public")
    response = client.get("/questions/feed.atom")
    feed = parsed(response)
    assert [entry.title for entry in feed.entries] == ["Νεότερη δημόσια ερώτηση",
                                                       f"Ερώτηση {MARKERS['public']} για τις προμήθειες"]
    assert not [marker for marker in hidden_markers() if marker in response.get_data(as_text=True)]
    assert feed.entries[1].link.startswith("http://127.0.0.1:5000/questions/")


def community_with_questions(make_user, make_question, visibility: str):
    moderator = make_user("mod", role="moderator")
    community = communities.create_community(moderator, f"Προμηθευτές {visibility}", "Για τις προμήθειες.", visibility)
    db.session.commit()
    for question_visibility in ("internal", "public"):
        make_question(moderator, title=f"Ερώτηση {question_visibility} της κοινότητας",
                      visibility=question_visibility, community_id=community.id)
    make_question(moderator, title="Δημόσια ερώτηση εκτός κοινότητας", visibility="public")
    return community


def test_a_public_community_has_a_feed_of_its_public_questions(app, client, make_user, make_question):
    community = community_with_questions(make_user, make_question, "public")
    feed = parsed(client.get(f"/communities/{community.slug}/feed.atom"))
    assert [entry.title for entry in feed.entries] == ["Ερώτηση public της κοινότητας"]
    assert community.name in feed.feed.title
    html = client.get(f"/communities/{community.slug}").get_data(as_text=True)
    assert f'href="/communities/{quote(community.slug)}/feed.atom"' in html


def test_a_community_that_is_not_public_has_no_feed(app, client, make_user, make_question):
    community = community_with_questions(make_user, make_question, "network")
    response = client.get(f"/communities/{community.slug}/feed.atom")
    assert response.status_code == 404 and community.name not in response.get_data(as_text=True)
    assert client.get("/communities/no-such-community/feed.atom").status_code == 404


def test_the_questions_page_advertises_its_feed_and_its_tags(app, client):
    html = client.get("/questions?tag=Προμήθειες").get_data(as_text=True)
    assert 'href="/questions/feed.atom"' in html and "/tags/%CE%A0" in html
