"""Short kernel names: what hotspots group by."""

from __future__ import annotations

_ANONYMOUS = "(anonymous namespace)"


def short_kernel_name(name: str) -> str:
    """The demangled name without return type, template arguments and parameter list.

    `void at::native::elementwise_kernel<128, 4, F>(int, F)` becomes `at::native::elementwise_kernel`.
    Names in brackets, the profilers' own labels such as `[CUDA graph 5]`, stay whole.
    """
    if name.startswith("[") and name.endswith("]"):
        return name
    text = name.replace(_ANONYMOUS, "{anonymous}")
    depth, kept = 0, []
    for char in text:
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth = max(depth - 1, 0)
        elif depth == 0:
            kept.append(char)
    words = "".join(kept).split()
    return words[-1] if words else name.strip()
