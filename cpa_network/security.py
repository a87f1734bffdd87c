"""Security headers and safe redirects."""

from urllib.parse import urlsplit

from flask import current_app, request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def add_security_headers(response):
    """No inline scripts, no framing, no sniffing; HSTS where the site is served over TLS."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.config.get("HSTS"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def safe_local_url(target: str | None, fallback: str) -> str:
    """`target` if it is a path on this site, else `fallback` (no open redirects)."""
    if not target:
        return fallback
    target = target.strip().replace("\\", "/")
    # Browsers drop tabs and newlines inside URLs ("/\t/evil.com" is "//evil.com"): refuse any
    # whitespace or control character rather than rely on urlsplit stripping them the same way.
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def referrer_path(fallback: str) -> str:
    """The page the user came from, if it was on this site."""
    ref = request.referrer
    if not ref:
        return fallback
    parts = urlsplit(ref)
    if parts.netloc != request.host:
        return fallback
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_local_url(path, fallback)
