"""RDB snapshots in Redis's own format: reader (v1-11), writer (v10), DUMP payloads."""
