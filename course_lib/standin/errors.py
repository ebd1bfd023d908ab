"""The stand-in model's errors: requests it refuses, and a server that cannot start."""

from __future__ import annotations

from course_lib.errors import CourseLibError

__all__ = ["InvalidRequestError", "ServerStartError"]


class InvalidRequestError(CourseLibError, ValueError):
    """A request the model cannot serve; ``status`` is the HTTP status a provider would send."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        param: str | None = None,
        code: str = "invalid_request",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.param = param
        self.code = code


class ServerStartError(CourseLibError, OSError):
    """The local model server could not start (the port is taken, or it did not come up)."""
