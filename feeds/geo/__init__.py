"""Geography: datums, the hierarchy format, grid lookup, business-grid overlays, the roster."""
