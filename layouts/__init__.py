"""Pure presentation: view-models in, Dash component trees out; no I/O, no callbacks."""
