"""dragonfly-py: a Redis-compatible, replicating in-memory server."""

import os

# numpy (latency histograms, vectorised helpers) needs no BLAS; without this its OpenBLAS starts
# a thread per core that spins through start-up.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
# What INFO reports as redis_version: clients and Sentinel gate features on it.
REDIS_VERSION = "7.0.15"
