"""Roles, scopes and who may see what (pure rules)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.alerts import CategoryRule
from domain.regions import is_within


class Role(StrEnum):
    """What a user may do."""

    VIEWER = "viewer"
    DUTY = "duty"
    REVIEWER = "reviewer"
    ADMIN = "admin"


CLEARED_FOR_SENSITIVE = frozenset({Role.DUTY, Role.ADMIN})


@dataclass(frozen=True)
class User:
    """A signed-in user: name, role and the region code they may see."""

    name: str
    role: Role
    scope: str

    def may_see_region(self, code: str) -> bool:
        """Whether `code` is inside this user's scope."""
        return is_within(code, self.scope)

    @property
    def cleared(self) -> bool:
        """Whether this user's role is cleared for sensitive categories."""
        return self.role in CLEARED_FOR_SENSITIVE

    def may_see_category(self, rule: CategoryRule | None) -> bool:
        """Whether this user's role is cleared for a category (unknown ones are hidden)."""
        if rule is None:
            return False
        return not rule.sensitive or self.role in CLEARED_FOR_SENSITIVE
