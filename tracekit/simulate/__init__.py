"""Simulated devices whose truth is known: a discrete-event model and emitters for every trace format.

`device.py` runs a workload (`scenarios/*.toml`) on a model of an accelerator and its host threads;
`timeline.py` holds the format-free records it produces; `emit_kineto`, `emit_msprof` and `emit_nsys`
write them as a PyTorch-profiler JSON, an Ascend msprof PROF_* tree and an Nsight Systems SQLite
export. See docs/simulator.md.
"""
