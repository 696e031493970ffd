"""Data in: terminal protocol v1, OsmAnd and Open311 intake, placement, the gateway, replay."""
