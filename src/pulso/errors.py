"""Errors the user may see, each carrying its HTTP status. Services raise them; one handler in the web layer
(:mod:`pulso.web.error_pages`) renders them as a page for people or JSON for API clients, and the CLI prints them."""

from __future__ import annotations


class DomainError(Exception):
    """An error the user may see. ``message_key`` names the UI string; ``message`` is the English text."""

    status_code = 400
    code = "bad_request"
    message_key = "error.bad_request"
    message = "Invalid request."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message is not None:
            self.message = message


class NotFoundError(DomainError):
    """Also what a user gets for something that exists but is not theirs: existence is not revealed."""

    status_code = 404
    code = "not_found"
    message_key = "error.not_found"
    message = "Not found."


class ForbiddenError(DomainError):
    status_code = 403
    code = "forbidden"
    message_key = "error.forbidden"
    message = "You do not have access to this resource."


class InvalidInputError(DomainError, ValueError):
    """Input that cannot be accepted; the message starts with the field, e.g. ``slug: ...``."""

    status_code = 400
    code = "invalid_input"
    message_key = "error.bad_request"
    message = "Invalid input."


class ConfigurationError(DomainError):
    """The installation's settings ask for something it cannot do (a missing optional package, a bad URL)."""

    status_code = 500
    code = "configuration"
    message_key = "error.configuration"
    message = "The server is misconfigured."
