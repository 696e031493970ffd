"""Data in and state: protocols, gateway, simulator, workers, Redis store, geography."""
