"""Creatives: banners (checked by their bytes, stored under UPLOAD_DIR with a random name) and
text ads, and the embed code publishers paste, carrying their tracking link."""

import secrets
import struct
from pathlib import Path

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import select

from cpa_network.errors import NotFound, ValidationFailed
from cpa_network.extensions import db
from offers.models import Creative, Offer

# The real type comes from the first bytes, never from the name or the browser's claim.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


class UnsupportedImage(ValidationFailed):
    code = "unsupported_image"
    default_message = _l("Upload a PNG, JPEG, GIF or WebP image.")


class ImageTooLarge(ValidationFailed):
    code = "image_too_large"
    default_message = _l("The image is too large.")


def sniff_type(data: bytes) -> str | None:
    for magic, mime, _ext in SIGNATURES:
        if data.startswith(magic):
            return mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_size(data: bytes, mime: str) -> tuple[int, int] | None:
    """Width and height from the image header, or None if it cannot be read."""
    try:
        if mime == "image/png":
            return struct.unpack(">II", data[16:24])
        if mime == "image/gif":
            return struct.unpack("<HH", data[6:10])
        if mime == "image/webp":
            return _webp_size(data)
        return _jpeg_size(data)
    except (struct.error, IndexError):
        return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        return (int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1)
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                      0xCF):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / "creatives"
    path.mkdir(parents=True, exist_ok=True)
    return path


def add_banner(offer: Offer, data: bytes, name: str = "") -> Creative:
    """Store an uploaded banner after checking its real type and its size."""
    limit = current_app.config["CREATIVE_MAX_BYTES"]
    if len(data) > limit:
        raise ImageTooLarge(_l("The image is larger than %(kb)d KB.", kb=limit // 1024),
                            fields={"file": [_l("At most %(kb)d KB.", kb=limit // 1024)]})
    mime = sniff_type(data)
    if mime is None:
        raise UnsupportedImage(fields={"file": [UnsupportedImage.default_message]})
    file_name = f"{secrets.token_hex(16)}.{EXTENSIONS[mime]}"
    (upload_dir() / file_name).write_bytes(data)
    width, height = image_size(data, mime) or (None, None)
    creative = Creative(offer_id=offer.id, kind="banner", name=name.strip()[:120],
                        file_name=file_name, mime_type=mime, size_bytes=len(data),
                        width=width, height=height)
    db.session.add(creative)
    db.session.flush()
    return creative


def add_text_ad(offer: Offer, headline: str, body: str, name: str = "") -> Creative:
    if not headline.strip():
        raise ValidationFailed(fields={"headline": [_l("Write a headline.")]})
    creative = Creative(offer_id=offer.id, kind="text", name=name.strip()[:120],
                        headline=headline.strip()[:120], body=body.strip()[:500])
    db.session.add(creative)
    db.session.flush()
    return creative


def creatives_of(offer: Offer) -> list[Creative]:
    return list(db.session.scalars(select(Creative).where(Creative.offer_id == offer.id)
                                   .order_by(Creative.created_at)))


def delete_creative(offer: Offer, creative_id: int) -> None:
    creative = db.session.get(Creative, creative_id)
    if creative is None or creative.offer_id != offer.id:
        raise NotFound(_l("No such creative."))
    if creative.file_name:
        (upload_dir() / creative.file_name).unlink(missing_ok=True)
    db.session.delete(creative)
    db.session.flush()


def banner_by_file_name(file_name: str) -> Creative | None:
    return db.session.scalar(select(Creative).where(Creative.file_name == file_name,
                                                    Creative.kind == "banner"))


def embed_code(creative: Creative, link_url: str, base_url: str) -> str:
    """Ready-to-paste HTML for a publisher's page; every value escaped."""
    href = escape(link_url)
    if creative.kind == "banner":
        src = escape(base_url + url_for("tracking.creative_file", file_name=creative.file_name))
        size = (f' width="{creative.width}" height="{creative.height}"'
                if creative.width and creative.height else "")
        return (f'<a href="{href}" target="_blank" rel="sponsored noopener">'
                f'<img src="{src}"{size} alt="{escape(creative.name or creative.offer.name)}">'
                f"</a>")
    return (f'<a href="{href}" target="_blank" rel="sponsored noopener">'
            f"<strong>{escape(creative.headline)}</strong> {escape(creative.body)}</a>")
