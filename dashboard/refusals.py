"""A refused page: not found (404) or forbidden (403), with the catalogue key that says why."""
from __future__ import annotations


class Refusal(Exception):
    """A page or read refused; `key` is the catalogue text shown to the user."""

    status = "404"

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


class NotFound(Refusal):
    """There is no such thing (case, event, region, page)."""

    status = "404"


class Forbidden(Refusal):
    """It exists, but not for this user (outside their scope, or not their role)."""

    status = "403"
