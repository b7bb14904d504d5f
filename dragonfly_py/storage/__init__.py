"""The keyspace: databases, value types and expiry. No I/O."""
