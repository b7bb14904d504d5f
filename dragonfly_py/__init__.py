"""dragonfly-py: a Redis-compatible, replicating in-memory server."""

__version__ = "0.1.0"
# What INFO reports as redis_version: clients and Sentinel gate features on it.
REDIS_VERSION = "7.0.15"
