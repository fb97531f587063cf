def test_health(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_sign_in_and_create(make_user, sign_in, client):
    user = make_user("maria", role="editor")
    sign_in(user)
    assert "maria" in client.get("/").get_data(as_text=True)
