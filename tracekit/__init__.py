"""tracekit: turn GPU/NPU profiler traces into answers."""

__version__ = "0.1.0"
