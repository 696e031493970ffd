"""The demo's fakes only: city generator and its data, simulator, backfill, synthetic cameras."""
