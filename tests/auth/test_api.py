"""GET /api/v1/me: the signed-in person, by token or by session."""
from __future__ import annotations

from auth.models import Department
from knet.db import db


def test_me_by_token(app, client, make_user, make_token):
    maria = make_user("maria", role="trainer")
    maria.display_name, maria.email = "Μαρία Παπαδοπούλου", "maria@dimos.test"
    maria.department = Department(dn="ou=payroll,dc=test", name="Payroll")
    db.session.commit()
    response = client.get("/api/v1/me", headers=make_token(maria, "read"))
    assert response.status_code == 200
    assert response.get_json() == {"username": "maria", "name": "Μαρία Παπαδοπούλου", "email": "maria@dimos.test",
                                   "roles": ["reader", "trainer"], "department": "Payroll",
                                   "home": "http://127.0.0.1:5000"}


def test_me_by_session(app, make_user, sign_in):
    client = sign_in(make_user("nikos", role="reader"))
    assert client.get("/api/v1/me").get_json()["roles"] == ["reader"]


def test_nobody_is_a_401_problem_with_a_sentence(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.get_json()["detail"]
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer knet_not-a-real-token",
                                            "Accept-Language": "en"})
    assert bad.status_code == 401
    assert bad.get_json()["detail"] == "This API token is unknown or has been revoked."
