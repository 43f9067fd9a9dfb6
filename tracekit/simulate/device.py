"""A discrete-event model of inference instances driving one accelerator (docs/simulator.md).

Host side: each instance is a host thread that, per inference, prepares its inputs, issues one copy
call per input (or one batched call per input group), one launch call per operator, copies the
output back and synchronizes. Before its copy calls it stages the inputs into pinned buffers at host
memory speed, without the shared lock. Every host call costs host time; with `Host.shared_lock` the calls of
all threads serialise (an interpreter or runtime lock), which bounds multi-instance throughput.

Device side: each instance has its own stream; a stream runs its tasks in order. An operator is
dispatched `Device.dispatch_ns` after its predecessor on the stream ends (operators depend on each
other), copies are not. Copies run on copy engines: `copy_fixed_ns` + bytes / bandwidth. Operators
take cores from the cube or vector pool (all of them, or the `aicore` limit) and run
`fixed_ns + work_ns * batch / cores`; when the cores are taken they wait in FIFO order
(contention). AI CPU operators run on the AI CPU pool, slowly. A dynamic-shape operator makes its
host thread wait until it ends, then infer shapes, before the next launch. Every duration gets
lognormal run-to-run noise from one seeded generator, drawn in event order, so a seed gives one
timeline exactly.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

import numpy as np

from tracekit.simulate.host_lock import HostLock
from tracekit.simulate.machine import FIRST_STREAM, Device, Host
from tracekit.simulate.noise import Noise
from tracekit.simulate.queues import Pool, Stream, Task, core_needs, pools
from tracekit.simulate.timeline import Api, Record, RecordKind, Unit
from tracekit.simulate.workload import Input, Operator, Run, Workload

_COMPUTE_UNITS = (Unit.CUBE, Unit.VECTOR, Unit.AICPU)
_HOLD, _WAIT, _WORK = 0, 1, 2  # host time under the shared lock, a device wait, host time without it


@dataclass(frozen=True)
class Summary:
    """What the run measured, as an inference server would report it."""

    inferences: int
    samples: int
    makespan_ns: int
    mean_latency_ns: float
    records: int

    @property
    def throughput(self) -> float:
        """Samples per second over the whole run."""
        return self.samples / self.makespan_ns * 1e9


@dataclass(frozen=True)
class _CopyPlan:
    """One copy an inference issues: its input group (or input) name, bytes and host call."""

    name: str
    nbytes: int
    api: Api
    host_ns: float


class Simulation:
    """One run of a workload on a device; iterate `records()`, then read `summary()`."""

    def __init__(self, workload: Workload, host: Host, device: Device, run: Run) -> None:
        _check(workload, device, run)
        self.workload, self.host, self.device, self.run = workload, host, device, run
        self._noise = Noise(np.random.default_rng(run.seed), device.noise)
        self._heap: list[tuple[int, int, Callable, object]] = []
        self._order = itertools.count()
        self._ids = itertools.count(1)
        self._steps = itertools.count(1)
        self.now = 0
        self._lock = HostLock(host, self._hold)
        self._out: list[Record] = []
        self._pools = pools(device)
        self._need = core_needs(device, run)
        self._streams = [Stream() for _ in range(run.instances)]
        self._copies = _copy_plan(workload, host, run)
        self._staged_bytes = sum(copy.nbytes for copy in self._copies)
        self._latencies: list[int] = []
        self._end = 0
        self._count = 0

    # --- public -------------------------------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        """Every record, in the order their start times become known (device tasks: by start)."""
        per_instance = _split(self.run.inferences, self.run.instances)
        for instance, count in enumerate(per_instance):
            if count:
                self._resume(self._host_thread(instance, count), None)
        while self._heap:
            time, _, action, argument = heapq.heappop(self._heap)
            self.now = time
            action(argument)
            if self._out:
                self._count += len(self._out)
                yield from self._out
                self._out = []

    def summary(self) -> Summary:
        """Throughput and latency of the run (after `records()` has been consumed)."""
        run = self.run
        return Summary(
            inferences=run.inferences,
            samples=run.inferences * run.batch,
            makespan_ns=self._end,
            mean_latency_ns=float(np.mean(self._latencies)) if self._latencies else 0.0,
            records=self._count,
        )

    # --- host threads -------------------------------------------------------------------------------

    def _host_thread(self, instance: int, count: int) -> Generator:
        host, run = self.host, self.run
        for _ in range(count):
            step = next(self._steps)
            step_start = self.now
            yield _HOLD, host.prep_ns + host.prep_per_sample_ns * run.batch
            latency_start = self.now
            if latency_start > step_start:
                prep = latency_start - step_start
                self._out.append(Record(RecordKind.PREP, "", step_start, prep, instance, -1, -1, step))
            yield _WORK, self._staged_bytes / host.stage_bytes_per_ns
            for copy in self._copies:
                yield from self._call(instance, step, copy.api, copy.host_ns, self._copy_task(copy, instance))
            for op in self.workload.operators:
                task = self._op_task(op, instance)
                yield from self._call(instance, step, Api.LAUNCH, host.launch_ns, task)
                if op.dynamic:
                    yield _WAIT, task
                    yield _HOLD, host.shape_ns
            output = self._output_task(instance)
            yield from self._call(instance, step, Api.MEMCPY, host.copy_ns, output)
            call_start = self.now
            yield _WAIT, output
            yield _WORK, host.sync_ns
            self._api(Api.SYNCHRONIZE, call_start, self.now - call_start, instance, -1, step)
            self._latencies.append(self.now - latency_start)
            self._out.append(
                Record(RecordKind.STEP, "", step_start, self.now - step_start, instance, -1, -1, step)
            )
            self._end = max(self._end, self.now)

    def _call(self, instance: int, step: int, api: Api, host_ns: float, task: Task) -> Generator:
        """A host call that hands `task` to the device when it returns."""
        start = yield _HOLD, host_ns
        task.correlation, task.step = next(self._ids), step
        self._api(api, start, self.now - start, instance, task.correlation, step)
        self._at(self.now + round(self.host.submit_ns), self._arrive, task)

    def _api(self, api: Api, start: int, dur: int, instance: int, correlation: int, step: int) -> None:
        self._out.append(Record(RecordKind.API, "", start, dur, instance, -1, correlation, step, api=api))

    def _resume(self, thread: Generator, value: object) -> None:
        """Run a host thread until it blocks: on host time (a hold) or on a device task."""
        try:
            command, argument = thread.send(value)
        except StopIteration:
            self._lock.leave(thread, self.now)
            return
        if command == _WAIT:
            self._lock.leave(thread, self.now)
            if argument.done:
                self._resume(thread, None)
            else:
                argument.waiter = thread
            return
        duration = round(argument * self._noise()) if argument else 0
        if command == _WORK:
            self._lock.leave(thread, self.now)
            self._hold(thread, self.now, duration)
            return
        start = self._lock.enter(thread, duration, self.now)
        if start is not None:
            self._hold(thread, start, duration)

    def _hold(self, thread: Generator, start: int, duration: int) -> None:
        self._at(start + duration, lambda t: self._resume(t, start), thread)

    # --- device -------------------------------------------------------------------------------------

    def _copy_task(self, copy: _CopyPlan, instance: int) -> Task:
        base = self.device.copy_fixed_ns + copy.nbytes / self.device.h2d_bytes_per_ns
        return Task(RecordKind.COPY, copy.name, Unit.H2D, 1, base, instance, -1, -1, nbytes=copy.nbytes)

    def _output_task(self, instance: int) -> Task:
        nbytes = self.workload.output_bytes_per_sample * self.run.batch
        base = self.device.copy_fixed_ns + nbytes / self.device.d2h_bytes_per_ns
        return Task(RecordKind.COPY, "output", Unit.D2H, 1, base, instance, -1, -1, nbytes=nbytes)

    def _op_task(self, op: Operator, instance: int) -> Task:
        need = self._need[op.unit]
        base = op.fixed_ns + op.work_ns * self.run.batch / need
        return Task(RecordKind.OP, op.name, op.unit, need, base, instance, -1, -1, dynamic=op.dynamic)

    def _arrive(self, task: Task) -> None:
        stream = self._streams[task.instance]
        stream.queue.append(task)
        if not stream.busy:
            self._dispatch(stream)

    def _dispatch(self, stream: Stream) -> None:
        """Start the stream's next task: operators after the dispatch gap, copies at once."""
        if not stream.queue:
            stream.busy = False
            return
        stream.busy = True
        task = stream.queue.popleft()
        if task.unit in _COMPUTE_UNITS:
            self._at(self.now + round(self.device.dispatch_ns * self._noise()), self._request, task)
        else:
            self._request(task)

    def _request(self, task: Task) -> None:
        pool = self._pools[task.unit]
        if not pool.waiting and pool.free >= task.need:
            pool.free -= task.need
            self._start(task)
        else:
            pool.waiting.append(task)

    def _start(self, task: Task) -> None:
        duration = max(1, round(task.base_ns * self._noise()))
        self._out.append(
            Record(
                task.kind, task.name, self.now, duration, task.instance, FIRST_STREAM + task.instance,
                task.correlation, task.step, task.nbytes, task.unit, -1,
                task.need if task.kind == RecordKind.OP else 0, task.dynamic,
            )
        )  # fmt: skip
        self._at(self.now + duration, self._finish, task)

    def _finish(self, task: Task) -> None:
        pool = self._pools[task.unit]
        pool.free += task.need
        self._wake(pool)
        task.done = True
        self._dispatch(self._streams[task.instance])
        if task.waiter is not None:
            waiter, task.waiter = task.waiter, None
            self._resume(waiter, None)

    def _wake(self, pool: Pool) -> None:
        """Freed units go to waiting tasks in FIFO order: a copy starts, an operator that waited for
        cores keeps them while it is dispatched again (contention costs a second dispatch)."""
        while pool.waiting and pool.free >= pool.waiting[0].need:
            task = pool.waiting.popleft()
            pool.free -= task.need
            if task.unit in _COMPUTE_UNITS:
                self._at(self.now + round(self.device.redispatch_ns * self._noise()), self._start, task)
            else:
                self._start(task)

    def _at(self, time: int, action: Callable, argument: object) -> None:
        heapq.heappush(self._heap, (time, next(self._order), action, argument))


def simulate(workload: Workload, host: Host, device: Device, run: Run) -> tuple[list[Record], Summary]:
    """Run to the end and keep every record (small runs; emitters stream `Simulation.records()`)."""
    simulation = Simulation(workload, host, device, run)
    records = list(simulation.records())
    return records, simulation.summary()


def _check(workload: Workload, device: Device, run: Run) -> None:
    if run.inferences < 1 or run.batch < 1 or run.instances < 1:
        raise ValueError("inferences, batch and instances must be at least 1")
    if run.aicore is not None and min(run.aicore) < 1:
        raise ValueError(f"aicore limit {run.aicore} must give each operator at least one core")
    if any(op.unit == Unit.AICPU for op in workload.operators) and device.aicpu_cores < 1:
        raise ValueError(f"{workload.name} has AI CPU operators but {device.name} has no AI CPU")


def _split(total: int, parts: int) -> list[int]:
    """Inferences per instance: as even as possible, the first ones take the remainder."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _copy_plan(workload: Workload, host: Host, run: Run) -> tuple[_CopyPlan, ...]:
    """The H2D copies of one inference: one per input, or one per input group under batch H2D."""
    if not run.batch_h2d:
        return tuple(
            _CopyPlan(i.name, i.bytes_per_sample * run.batch, Api.MEMCPY, host.copy_ns)
            for i in workload.inputs
        )
    groups: dict[str, list[Input]] = {}
    for item in workload.inputs:
        groups.setdefault(item.group, []).append(item)
    return tuple(
        _CopyPlan(
            name,
            sum(i.bytes_per_sample for i in members) * run.batch,
            Api.MEMCPY_BATCH,
            host.copy_ns + host.batch_entry_ns * len(members),
        )
        for name, members in groups.items()
    )
