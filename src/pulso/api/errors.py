"""Domain errors that carry their HTTP status; one handler (:mod:`pulso.web.error_pages`) renders them as a
page for people or as JSON for API clients."""

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


class CsrfError(DomainError):
    status_code = 403
    code = "csrf_failed"
    message_key = "error.csrf"
    message = "CSRF token missing or invalid: the form has expired or came from another site. Reload and retry."


class LoginRequiredError(DomainError):
    """Pages answer it with a redirect to the login page (``next`` brings the user back); APIs with 401."""

    status_code = 401
    code = "login_required"
    message_key = "login.expired"
    message = "Authentication required."

    def __init__(self, next_path: str = "/", *, expired: bool = False) -> None:
        super().__init__()
        self.next_path = next_path
        self.expired = expired
