"""Gridwatch composition root: the CLI, config loading, the component table, the supervisor."""
