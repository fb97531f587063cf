"""The security headers of every response (knet/security_headers.py): pages, the API, static files and error
pages; HSTS only on an https node; responses with a policy of their own keep it; the sign-in page names
where its forms lead."""
from __future__ import annotations

import io
import tomllib

import pytest
import tomli_w
from PIL import Image

from auth import people
from knet.app import create_app
from knet.db import db
from knet.search.indexing import close_index
from knet.security_headers import allow_form_targets, content_security_policy
from tests.conftest import IsolatedClient

# What the headers say does not depend on the database.
pytestmark = pytest.mark.sqlite_only

NODE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
               "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def assert_node_headers(response) -> None:
    assert response.headers["Content-Security-Policy"] == NODE_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def set_in_config(instance, **settings) -> None:
    config = tomllib.loads((instance / "knet.toml").read_text(encoding="utf-8"))
    config.update(settings)
    (instance / "knet.toml").write_text(tomli_w.dumps(config), encoding="utf-8")


@pytest.fixture
def node_at(instance):
    """node_at(url, **settings) is the test's node started with that address (and those settings) in its
    knet.toml, as an IT officer would configure it."""
    started = []

    def start(url: str, **settings):
        set_in_config(instance, url=url, **settings)
        app = create_app(instance, overrides={"TESTING": True})
        app.test_client_class = IsolatedClient
        started.append(app)
        return app

    yield start
    for app in started:
        with app.app_context():
            close_index(app)
            db.session.remove()
            db.engine.dispose()


def test_a_page_an_api_answer_a_static_file_and_error_pages_carry_the_headers(app, client, make_user, make_page):
    author = make_user("maria")
    make_page(author, "Άδειες λειτουργίας", visibility="public")
    for path, status, kind in (("/", 200, "text/html"), ("/api/v1/pages", 200, "application/json"),
                               ("/static/knet.css", 200, "text/css"), ("/no/such/address", 404, "text/html"),
                               ("/api/v1/pages/no-such-page", 404, "application/problem+json")):
        with client.get(path) as response:  # a static file's stream is closed with it
            assert (response.status_code, response.mimetype) == (status, kind), path
            assert_node_headers(response)
            assert "Strict-Transport-Security" not in response.headers, path


def test_a_page_served_to_an_anonymous_visitor_from_the_page_cache_carries_them_too(app, client):
    first, second = client.get("/"), client.get("/")
    assert first.status_code == second.status_code == 200
    assert_node_headers(second)


def test_an_https_node_tells_browsers_to_use_https_only_and_an_http_node_does_not(node_at):
    https = node_at("https://knet.example.gr").test_client()
    for path in ("/", "/static/knet.css", "/no/such/address"):
        with https.get(path) as response:
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000", path
    http = node_at("http://knet.example.gr").test_client()
    assert "Strict-Transport-Security" not in http.get("/").headers


def test_a_profile_photo_keeps_its_own_stricter_policy(app, client, make_user, sign_in):
    maria = make_user("maria")
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "teal").save(buffer, "PNG")
    people.set_photo(maria, maria, buffer.getvalue())
    db.session.commit()
    sign_in(maria)
    response = client.get("/people/maria/photo")
    assert response.status_code == 200 and response.mimetype.startswith("image/")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    # Framing is for the response's own policy to decide.
    assert "X-Frame-Options" not in response.headers


def test_the_sign_in_page_lets_its_form_lead_to_the_national_sign_in(node_at, instance):
    app = node_at("http://127.0.0.1:5000", upstream={
        "name": "TaxisNet", "authorize_url": "https://login.gov.example:8443/oauth2/authorize",
        "token_url": "https://login.gov.example:8443/oauth2/token",
        "userinfo_url": "https://login.gov.example:8443/oauth2/userinfo",
        "client_id": "knet", "client_secret": "a secret"})
    sign_in_page = app.test_client().get("/login")
    assert "TaxisNet" in sign_in_page.get_data(as_text=True)
    assert directives(sign_in_page)["form-action"] == "'self' https://login.gov.example:8443"
    # Other pages keep form-action 'self'.
    assert directives(app.test_client().get("/"))["form-action"] == "'self'"


def test_only_origins_ever_enter_the_policy(app):
    with app.test_request_context("/"):
        allow_form_targets("http://127.0.0.1:8001/oauth/callback?code=1", "https://B.example.gr/",
                           "http://127.0.0.1:8001/other", "javascript:alert(1)", "https://evil; script-src *",
                           "https://a.example\r\nSet-Cookie: x=1", "", "ftp://files.example")
        response = app.make_response("ok")
        app.process_response(response)
    assert directives(response)["form-action"] == "'self' http://127.0.0.1:8001 https://b.example.gr"
    assert content_security_policy() == NODE_POLICY
