"""History: officers' tracks, case statistics, Parquet export, the audit log."""
