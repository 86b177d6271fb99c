"""The one error type every layer raises for bad input or a refused command."""

from __future__ import annotations


class LobbyError(Exception):
    """A refusal a person can act on.

    ``code`` is a stable English identifier for scripts; ``message`` is Chinese, for
    people, and says what was wrong and what to do. ``field`` and ``line`` locate the
    problem when it comes from a form or a file.
    """

    def __init__(
        self, code: str, message: str, *, field: str | None = None, line: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.line = line

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"error": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.line is not None:
            out["line"] = self.line
        return out
