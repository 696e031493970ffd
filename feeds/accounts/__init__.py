"""Accounts: users, passwords, sessions, login limits, terminal devices and their tokens."""
