"""Fixtures of the dashboard tests: the seeded city of the scope tests."""
from tests.dashboard.scope_world import world  # noqa: F401  (a module-scoped fixture)
