"""tracekit: turn GPU/NPU profiler traces into answers.

    >>> import tracekit
    >>> trace = tracekit.load("trace.pt.trace.json.gz")
    >>> analysis = tracekit.analyze(trace, top=5)
    >>> analysis.hotspots  # a pandas DataFrame

The API (docs/python.md) lives in tracekit/api.py and is imported on first use, so that the
command line starts without it.
"""

__version__ = "0.1.0"

_API = ("Analysis", "Trace", "analyze", "load")
__all__ = [*_API, "__version__"]


def __getattr__(name: str) -> object:
    if name in _API:
        from tracekit import api

        return getattr(api, name)
    raise AttributeError(f"module 'tracekit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
