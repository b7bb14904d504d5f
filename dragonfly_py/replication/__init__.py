"""Replication with Redis's protocol (PSYNC2): the primary side, the replica side, propagation."""
