"""API keys: created on the site or the CLI, shown once, hashed at rest, revocable, scoped."""

from sqlalchemy import select

from cpa_network.accounts.models import ApiKey, User
from cpa_network.accounts.services import block_user
from cpa_network.extensions import db
from tests.factories import make_api_key, make_user, tampered


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_me_with_a_valid_key(client, app_context):
    user = make_user("advertiser", "publisher", email="me@example.com")
    key = make_api_key(user)
    response = client.get("/api/v1/me", headers=bearer(key))
    assert response.status_code == 200
    assert response.json == {"id": user.id, "email": "me@example.com",
                             "display_name": user.display_name,
                             "roles": ["advertiser", "publisher"],
                             "referral_code": user.referral_code,
                             "registered_at": user.registered_at.isoformat()}
    stored = db.session.scalar(select(ApiKey))
    assert key not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64


def test_missing_bad_and_revoked_keys_get_401_json(client, app_context):
    user = make_user()
    key = make_api_key(user)
    assert client.get("/api/v1/me").json["error"]["code"] == "unauthenticated"
    wrong = tampered(key)
    response = client.get("/api/v1/me", headers=bearer(wrong))
    assert response.status_code == 401
    assert response.json["error"]["message"] == "This API key is not valid or was revoked."
    db.session.scalar(select(ApiKey)).revoked_at = db.func.now()
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(key)).status_code == 401


def test_blocked_user_cannot_use_the_api(client, app_context):
    user = make_user()
    key = make_api_key(user)
    block_user(db.session.get(User, user.id), "fraud")
    db.session.commit()
    response = client.get("/api/v1/me", headers=bearer(key))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "account_blocked"


def test_key_page_shows_new_key_once_and_revokes(client, app_context):
    make_user(email="me@example.com")
    client.login("me@example.com")
    page = client.submit("/account/api-keys", {"name": "tracker", "scopes": "read write"})
    html = page.get_data(as_text=True)
    assert "Copy it now." in html
    key = html.split('id="new-key"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert client.get("/api/v1/me", headers=bearer(key)).status_code == 200
    assert key not in client.get("/account/api-keys").get_data(as_text=True)
    key_id = db.session.scalar(select(ApiKey.id))
    client.submit(f"/account/api-keys/{key_id}/revoke", page="/account/api-keys")
    assert client.get("/api/v1/me", headers=bearer(key)).status_code == 401


def test_one_user_cannot_revoke_anothers_key(client, app_context):
    owner = make_user()
    make_api_key(owner)
    make_user(email="other@example.com")
    client.login("other@example.com")
    key_id = db.session.scalar(select(ApiKey.id))
    response = client.submit(f"/account/api-keys/{key_id}/revoke", page="/account/api-keys")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiKey, key_id).revoked_at is None
