"""Operations: Prometheus metrics, heartbeats and probes, log format."""
