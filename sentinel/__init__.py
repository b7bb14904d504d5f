"""dragonfly-py's Sentinel: a drop-in for Redis Sentinel 7.0."""
