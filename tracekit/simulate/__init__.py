"""Simulated devices whose truth is known: a discrete-event model and emitters for every trace format.

`device.py` runs a workload (`scenarios/*.toml`) on a model of an accelerator and its host threads:
`workload.py` and `machine.py` describe what runs and on what, `queues.py`, `host_lock.py` and
`noise.py` are the simulation's parts (device queues, the shared host lock, run-to-run noise);
`timeline.py` holds the format-free records it produces; `emit_kineto`, `emit_msprof` and `emit_nsys`
write them as a PyTorch-profiler JSON, an Ascend msprof PROF_* tree and an Nsight Systems SQLite
export. See docs/simulator.md.
"""
