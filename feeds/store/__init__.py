"""Redis plumbing: the client factory, every key name, packing, slot reads, the embedded server."""
