"""Fixtures of the dashboard tests: the scope tests' world (tests/dashboard/scope_world.py)."""
from tests.dashboard.scope_world import five_ctx, world  # noqa: F401
