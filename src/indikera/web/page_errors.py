"""The one error a page handler raises: an HTTP status and the i18n key of the message shown."""

from __future__ import annotations


class PageError(Exception):
    def __init__(self, status: int, message_key: str, **values: object) -> None:
        super().__init__(message_key)
        self.status, self.message_key, self.values = status, message_key, values
