"""Two saves at the same moment: the database keeps one, the other gets a clear 409, never a 500."""
from knet.db import db
from wiki.models import Page, Revision


def test_simultaneous_save_is_refused_with_409(client, make_user, make_token, make_page):
    author = make_user("eleni", role="editor")
    headers = make_token(author)
    page = make_page(author, "Άδειες προσωπικού", "Πρώτη έκδοση.")
    # Another worker has written revision 2 but this request still reads revision 1 as current.
    db.session.add(Revision(page_id=page.id, number=2, title=page.title, body="Του άλλου.", html="<p>Του άλλου.</p>",
                            author_id=author.id))
    db.session.commit()

    response = client.put(f"/api/v1/pages/{page.slug}", json={"body": "Δική μου.", "base_revision": 1},
                          headers=headers)

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"]  # a sentence, in the node's language
    db.session.expire_all()
    bodies = [r.body for r in db.session.get(Page, page.id).revisions]
    assert bodies == ["Πρώτη έκδοση.", "Του άλλου."]
