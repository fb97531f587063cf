"""The feed of new courses (learning.feeds): published public courses only, attributed to their trainers."""
from __future__ import annotations

from tests.outward import MARKERS, content_of_every_visibility, hidden_markers, parsed


def test_new_courses_are_the_published_public_ones(app, client, make_user, trainer, make_course):
    content_of_every_visibility(app, make_user("alice"), trainer)
    make_course(trainer, "Δημόσιο πρόχειρο", visibility="public", publish=False)
    response = client.get("/learning/courses/feed.atom")
    feed = parsed(response)
    assert [entry.title for entry in feed.entries] == [f"Μάθημα {MARKERS['public']}"]
    body = response.get_data(as_text=True)
    assert "Δημόσιο πρόχειρο" not in body and not [marker for marker in hidden_markers() if marker in body]
    entry = feed.entries[0]
    assert entry.author == trainer.name and entry.summary == f"Τα βασικά ({MARKERS['public']})."


def test_the_catalogue_advertises_its_feed(app, client):
    html = client.get("/learning/courses").get_data(as_text=True)
    assert html.count('href="/learning/courses/feed.atom"') == 2
