"""Domain errors (named for the violation, with a stable code) and the app's error handlers."""

import psycopg
from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A refused business action: a stable machine `code`, a human message and an HTTP status."""

    code = "invalid_request"
    http_status = 400
    default_message = _l("The request was refused.")

    def __init__(self, message=None, *, fields: dict | None = None):
        self.message = message if message is not None else self.default_message
        self.fields = fields or {}
        super().__init__(str(self.message))


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    default_message = _l("Not found.")


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403
    default_message = _l("You are not allowed to do that.")


class ValidationFailed(DomainError):
    code = "validation_failed"
    http_status = 422
    default_message = _l("Some fields are not valid.")


def wants_json() -> bool:
    """API and machine endpoints answer JSON errors; pages answer HTML."""
    return request.path.startswith("/api/") or request.path.startswith("/postback")


def json_error(code: str, message, status: int, fields: dict | None = None):
    body = {"error": {"code": code, "message": str(message)}}
    if fields:
        body["error"]["fields"] = {k: [str(m) for m in v] for k, v in fields.items()}
    return jsonify(body), status


def init_error_handlers(app: Flask) -> None:
    """HTML error pages in the site's style; JSON bodies for the API."""

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        if wants_json():
            response, status = json_error(error.code, error.message, error.http_status,
                                          error.fields)
        else:
            response = app.make_response(render_template(
                "errors/error.html", status=error.http_status, message=error.message))
            status = error.http_status
        response.status_code = status
        if getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if wants_json():
            code = (error.name or "error").lower().replace(" ", "_")
            response = json_error(code, error.description, error.code or 500)[0]
            response.status_code = error.code or 500
            for header in ("Retry-After", "Allow", "WWW-Authenticate"):
                if error.get_response().headers.get(header):
                    response.headers[header] = error.get_response().headers[header]
            return response
        # werkzeug's descriptions are English-only: the page says it in the user's language.
        return render_template("errors/error.html", status=error.code, message=None), error.code

    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError):
        if not error.connection_invalidated:
            return handle_unexpected(error)
        # The connection died mid-request (database restart, failover, a killed backend): its
        # transaction is gone whole and the pool has dropped the connection, so the same request
        # can simply be sent again.
        app.logger.warning("database connection lost on %s %s: %s", request.method,
                           request.path, error.orig)
        from cpa_network.extensions import db

        db.session.rollback()
        message = _l("The service is briefly unavailable. Nothing was changed; please try again.")
        if wants_json():
            response, status = json_error("database_unavailable", message, 503)
        else:
            response, status = render_template("errors/error.html", status=503,
                                               message=None), 503
        return response, status, {"Retry-After": "1"}

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        from cpa_network.extensions import db

        if _number_out_of_range(error):
            db.session.rollback()  # an id or amount no column can hold: no such row, or refused
            if any(isinstance(v, int) for v in (request.view_args or {}).values()):
                return handle_domain_error(NotFound())
            return handle_domain_error(ValidationFailed(_l("A number is out of range.")))
        if _nul_in_text(error):
            db.session.rollback()  # psycopg refused it before sending: nothing was written
            return handle_domain_error(ValidationFailed(
                _l("Text cannot contain the NUL character.")))
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if wants_json():
            return json_error("internal_error", "Internal server error.", 500)
        return render_template("errors/error.html", status=500, message=None), 500


def _nul_in_text(error: Exception) -> bool:
    """A request's text held NUL (`%00`), which PostgreSQL's text cannot store: psycopg refuses
    the parameter (DataError) before sending the statement."""
    orig = getattr(error, "orig", None)
    return isinstance(orig, psycopg.DataError) and "NUL (0x00)" in str(orig)


def _number_out_of_range(error: Exception) -> bool:
    """PostgreSQL refused a value too large for its integer column (SQLSTATE 22003)."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) == "22003"
