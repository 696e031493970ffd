"""Gridwatch's vocabulary: frozen dataclasses, enums and pure rules, no I/O."""
