"""Data in and state, one package per subsystem (store, geo, ingest, live, ...)."""
