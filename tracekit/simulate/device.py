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
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

import numpy as np

from tracekit.simulate.timeline import Api, Record, RecordKind, Unit

FIRST_STREAM = 2  # stream id of instance 0 (msprof numbers physical streams from small integers)
_COMPUTE_UNITS = (Unit.CUBE, Unit.VECTOR, Unit.AICPU)
_HOLD, _WAIT, _WORK = 0, 1, 2  # host time under the shared lock, a device wait, host time without it


@dataclass(frozen=True)
class Operator:
    """One operator of the model. `work_ns` is core-nanoseconds per sample; `dtype` as msprof names it."""

    name: str
    unit: Unit
    fixed_ns: float
    work_ns: float
    dynamic: bool = False
    dtype: str = "FLOAT16"


@dataclass(frozen=True)
class Input:
    """One model input: bytes per sample, and the group it is batched with under batch H2D."""

    name: str
    bytes_per_sample: int
    group: str


@dataclass(frozen=True)
class Workload:
    """A model: its inputs, operators in launch order, and its output size."""

    name: str
    inputs: tuple[Input, ...]
    operators: tuple[Operator, ...]
    output_bytes_per_sample: int


@dataclass(frozen=True)
class Host:
    """Host-side costs, in ns."""

    launch_ns: float  # one operator launch call
    copy_ns: float  # one copy call (also the base of a batched copy call)
    batch_entry_ns: float  # each input of a batched copy call, on top of launch_ns
    sync_ns: float  # returning from a synchronize once the stream has drained (no lock needed)
    prep_ns: float  # per inference, before its first call (outside the latency)
    prep_per_sample_ns: float  # per sample of the batch, on top of prep_ns
    shape_ns: float  # shape inference after a dynamic-shape operator ends
    submit_ns: float  # from the end of a call until the device sees the task
    stage_bytes_per_ns: float  # staging pageable inputs into pinned memory (no lock needed), = GB/s
    shared_lock: bool  # calls and preparation of all instances serialise
    lock_quantum_ns: float  # longest a thread keeps the shared lock while others wait


@dataclass(frozen=True)
class Device:
    """The accelerator: core pools, copy engines and dispatch cost."""

    name: str
    cube_cores: int
    vector_cores: int
    aicpu_cores: int
    copy_engines: int  # per direction
    copy_fixed_ns: float  # per copy, whatever its size
    h2d_bytes_per_ns: float  # = GB/s
    d2h_bytes_per_ns: float
    dispatch_ns: float  # operator dispatch after its predecessor on the stream ended
    redispatch_ns: float  # an operator that had to wait for cores is dispatched again when they free
    noise: float  # sigma of the lognormal noise on every duration


@dataclass(frozen=True)
class Run:
    """One run: how many inferences, batch size, instances, core limit, batch H2D, seed."""

    inferences: int
    batch: int
    instances: int = 1
    aicore: tuple[int, int] | None = None  # (cube, vector) cores per operator: ge.aicoreNum
    batch_h2d: bool = False
    seed: int = 0


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


@dataclass(eq=False)
class _Task:
    """A device task waiting for, or holding, its resource."""

    kind: RecordKind
    name: str
    unit: Unit
    need: int
    base_ns: float
    instance: int
    correlation: int
    step: int
    nbytes: int = -1
    dynamic: bool = False
    done: bool = False
    waiter: Generator | None = None


@dataclass(eq=False)
class _Pool:
    """Identical units (cores or copy engines) taken whole by tasks in FIFO order."""

    free: int
    waiting: deque = field(default_factory=deque)


@dataclass(eq=False)
class _Stream:
    queue: deque = field(default_factory=deque)
    busy: bool = False


class _Noise:
    """Lognormal factors with mean 1, drawn in blocks from one generator."""

    def __init__(self, rng: np.random.Generator, sigma: float, block: int = 8192) -> None:
        self._rng, self._sigma, self._block = rng, sigma, block
        self._values: list[float] = []
        self._next = 0

    def __call__(self) -> float:
        if self._sigma == 0:
            return 1.0
        if self._next == len(self._values):
            draws = self._rng.lognormal(-(self._sigma**2) / 2, self._sigma, self._block)
            self._values, self._next = draws.tolist(), 0
        self._next += 1
        return self._values[self._next - 1]


class _HostLock:
    """The host lock of `Host.shared_lock`: one thread runs host work at a time.

    The holder keeps the lock across consecutive calls until it blocks on the device, ends, or has
    held it for `Host.lock_quantum_ns` while others wait (an interpreter's switch interval); the
    lock then passes to the longest-waiting thread. Without a shared lock every thread runs at once.
    """

    def __init__(self, host: Host, hold: Callable[[Generator, int, int], None]) -> None:
        self._shared, self._quantum, self._hold = host.shared_lock, host.lock_quantum_ns, hold
        self._owner: Generator | None = None
        self._since = 0
        self._waiting: deque[tuple[Generator, int]] = deque()

    def enter(self, thread: Generator, duration: int, now: int) -> int | None:
        """Start time of the hold, or None when the thread must wait (it is started later)."""
        if not self._shared:
            return now
        if self._owner is None:
            self._owner, self._since = thread, now
            return now
        if self._owner is thread:
            if not self._waiting or now - self._since < self._quantum:
                return now
            self._waiting.append((thread, duration))
            self._pass(now)
            return None
        self._waiting.append((thread, duration))
        return None

    def leave(self, thread: Generator, now: int) -> None:
        """The thread blocks or ends: pass the lock on if it held it."""
        if self._owner is thread:
            self._pass(now)

    def _pass(self, now: int) -> None:
        if not self._waiting:
            self._owner = None
            return
        thread, duration = self._waiting.popleft()
        self._owner, self._since = thread, now
        self._hold(thread, now, duration)


class Simulation:
    """One run of a workload on a device; iterate `records()`, then read `summary()`."""

    def __init__(self, workload: Workload, host: Host, device: Device, run: Run) -> None:
        _check(workload, device, run)
        self.workload, self.host, self.device, self.run = workload, host, device, run
        self._noise = _Noise(np.random.default_rng(run.seed), device.noise)
        self._heap: list[tuple[int, int, Callable, object]] = []
        self._order = itertools.count()
        self._ids = itertools.count(1)
        self._steps = itertools.count(1)
        self.now = 0
        self._lock = _HostLock(host, self._hold)
        self._out: list[Record] = []
        self._pools = _pools(device)
        self._need = _core_needs(device, run)
        self._streams = [_Stream() for _ in range(run.instances)]
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

    def _call(self, instance: int, step: int, api: Api, host_ns: float, task: _Task) -> Generator:
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

    def _copy_task(self, copy: _CopyPlan, instance: int) -> _Task:
        base = self.device.copy_fixed_ns + copy.nbytes / self.device.h2d_bytes_per_ns
        return _Task(RecordKind.COPY, copy.name, Unit.H2D, 1, base, instance, -1, -1, nbytes=copy.nbytes)

    def _output_task(self, instance: int) -> _Task:
        nbytes = self.workload.output_bytes_per_sample * self.run.batch
        base = self.device.copy_fixed_ns + nbytes / self.device.d2h_bytes_per_ns
        return _Task(RecordKind.COPY, "output", Unit.D2H, 1, base, instance, -1, -1, nbytes=nbytes)

    def _op_task(self, op: Operator, instance: int) -> _Task:
        need = self._need[op.unit]
        base = op.fixed_ns + op.work_ns * self.run.batch / need
        return _Task(RecordKind.OP, op.name, op.unit, need, base, instance, -1, -1, dynamic=op.dynamic)

    def _arrive(self, task: _Task) -> None:
        stream = self._streams[task.instance]
        stream.queue.append(task)
        if not stream.busy:
            self._dispatch(stream)

    def _dispatch(self, stream: _Stream) -> None:
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

    def _request(self, task: _Task) -> None:
        pool = self._pools[task.unit]
        if not pool.waiting and pool.free >= task.need:
            pool.free -= task.need
            self._start(task)
        else:
            pool.waiting.append(task)

    def _start(self, task: _Task) -> None:
        duration = max(1, round(task.base_ns * self._noise()))
        self._out.append(
            Record(
                task.kind, task.name, self.now, duration, task.instance, FIRST_STREAM + task.instance,
                task.correlation, task.step, task.nbytes, task.unit, -1,
                task.need if task.kind == RecordKind.OP else 0, task.dynamic,
            )
        )  # fmt: skip
        self._at(self.now + duration, self._finish, task)

    def _finish(self, task: _Task) -> None:
        pool = self._pools[task.unit]
        pool.free += task.need
        self._wake(pool)
        task.done = True
        self._dispatch(self._streams[task.instance])
        if task.waiter is not None:
            waiter, task.waiter = task.waiter, None
            self._resume(waiter, None)

    def _wake(self, pool: _Pool) -> None:
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


def _pools(device: Device) -> dict[Unit, _Pool]:
    return {
        Unit.CUBE: _Pool(device.cube_cores),
        Unit.VECTOR: _Pool(device.vector_cores),
        Unit.AICPU: _Pool(device.aicpu_cores),
        Unit.H2D: _Pool(device.copy_engines),
        Unit.D2H: _Pool(device.copy_engines),
    }


def _core_needs(device: Device, run: Run) -> dict[Unit, int]:
    """Cores one operator takes: all of its pool, or the ge.aicoreNum-style limit."""
    cube, vector = run.aicore or (device.cube_cores, device.vector_cores)
    return {
        Unit.CUBE: min(cube, device.cube_cores),
        Unit.VECTOR: min(vector, device.vector_cores),
        Unit.AICPU: 1,
    }


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
