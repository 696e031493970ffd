"""Live city state: the worker that applies the streams, commands, the read model, summaries."""
