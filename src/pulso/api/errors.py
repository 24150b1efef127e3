"""Web-layer errors; the domain errors live in :mod:`pulso.errors` and are re-exported here."""

from __future__ import annotations

from pulso.errors import DomainError, ForbiddenError, InvalidInputError, NotFoundError

__all__ = ["CsrfError", "DomainError", "ForbiddenError", "InvalidInputError", "LoginRequiredError", "NotFoundError"]


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
