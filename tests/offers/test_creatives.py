"""Creatives: the real type is read from the bytes, the size is capped, files are served safely."""

import io
import struct
import zlib

from flask import Flask
from sqlalchemy import select

from cpa_network.app import load_config
from cpa_network.extensions import db
from offers.models import Creative
from tests.factories import make_user
from tests.offers.helpers import make_offer


def png(width=2, height=3) -> bytes:
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def gif() -> bytes:
    return b"GIF89a" + struct.pack("<HH", 468, 60) + b"\x00" * 20


def webp() -> bytes:
    body = b"WEBPVP8X" + struct.pack("<I", 10) + b"\x00" * 4 + (299).to_bytes(3, "little") \
        + (249).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def upload(client, offer, data: bytes, filename: str):
    page = f"/advertiser/offers/{offer.id}"
    return client.submit(f"{page}/creatives", {"upload": "Upload", "name": "Banner",
                                               "file": (io.BytesIO(data), filename)},
                         page=page, content_type="multipart/form-data", follow_redirects=True)


def test_banners_are_checked_by_their_bytes_and_stored_under_a_random_name(
        app, client, app_context, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    advertiser = make_user("advertiser", email="adv@example.com")
    offer = make_offer(advertiser)
    client.login("adv@example.com")
    for data, name in ((png(), "../../evil.php"), (gif(), "a.gif"), (webp(), "b.webp")):
        assert upload(client, offer, data, name).status_code == 200
    refused = upload(client, offer, b"<svg onload=alert(1)>", "fake.png")
    assert "Upload a PNG, JPEG, GIF or WebP image." in refused.get_data(as_text=True)
    html_as_gif = upload(client, offer, b"<html><script>x</script>", "x.gif")
    assert "Upload a PNG" in html_as_gif.get_data(as_text=True)
    creatives = db.session.scalars(select(Creative).order_by(Creative.id)).all()
    assert [(c.mime_type, c.width, c.height) for c in creatives] == [
        ("image/png", 2, 3), ("image/gif", 468, 60), ("image/webp", 300, 250)]
    stored = sorted(p.name for p in (tmp_path / "creatives").iterdir())
    assert stored == sorted(c.file_name for c in creatives)
    assert all(len(name.split(".")[0]) == 32 for name in stored)
    served = client.get(f"/creatives/{creatives[0].file_name}")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.get_data() == png()
    served.close()
    assert client.get("/creatives/unknown.png").status_code == 404


def test_banner_size_is_limited(app, client, app_context, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "CREATIVE_MAX_BYTES", 2048)
    offer = make_offer(make_user("advertiser", email="adv@example.com"))
    client.login("adv@example.com")
    response = upload(client, offer, png() + b"\x00" * 3000, "big.png")
    assert "The image is larger than 2 KB." in response.get_data(as_text=True)
    assert db.session.scalar(select(Creative)) is None


def test_a_body_past_the_request_limit_is_refused_before_it_is_read(
        app, client, app_context, tmp_path, monkeypatch):
    """MAX_CONTENT_LENGTH refuses a body larger than any form needs with a 413 page, before the
    upload is read into memory whole; nothing is stored."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 8192)
    offer = make_offer(make_user("advertiser", email="adv@example.com"))
    client.login("adv@example.com")
    response = upload(client, offer, png() + b"\x00" * 20_000, "huge.png")
    assert response.status_code == 413
    assert "What you sent is too large. Nothing was saved." in response.get_data(as_text=True)
    assert db.session.scalar(select(Creative)) is None
    assert not (tmp_path / "creatives").exists()


def test_the_request_limit_follows_the_banner_limit_unless_set():
    derived, explicit = Flask("derived"), Flask("explicit")
    load_config(derived, "testing", {"CREATIVE_MAX_BYTES": 300_000})
    load_config(explicit, "testing", {"CREATIVE_MAX_BYTES": 300_000,
                                      "MAX_CONTENT_LENGTH": 5_000_000})
    assert derived.config["MAX_CONTENT_LENGTH"] == 300_000 + 1024 * 1024
    assert explicit.config["MAX_CONTENT_LENGTH"] == 5_000_000


def test_another_advertiser_cannot_add_or_delete_creatives(client, app_context):
    offer = make_offer()
    db.session.add(Creative(offer_id=offer.id, kind="text", headline="Hi"))
    db.session.commit()
    make_user("advertiser", email="other@example.com")
    client.login("other@example.com")
    creative_id = db.session.scalar(select(Creative.id))
    response = client.submit(f"/advertiser/offers/{offer.id}/creatives/{creative_id}/delete",
                             page="/advertiser/offers/")
    assert response.status_code == 404
    assert db.session.scalar(select(Creative.id)) == creative_id
