"""checked.blocks_table: several readers' blocks become the table `event_table` would make of each,
concatenated, with the same checks and the same counted problems."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracekit.model.schema import NONE, Kind
from tracekit.readers import checked
from tracekit.readers.checked import INVALID_NS, Block


def _kernels() -> Block:
    columns = {
        "start_ns": np.array([100, INVALID_NS, 300], dtype=np.int64),
        "dur_ns": np.array([10, 5, 20], dtype=np.int64),
        "device": np.array([0, 0, 2**31], dtype=np.int64),
        "kind": np.full(3, Kind.KERNEL, dtype=np.int8),
        "name": pa.array(["gemm", "gemm", "relu"]).dictionary_encode(),
    }
    return Block(columns, 3)


def _calls() -> Block:
    columns = {
        "start_ns": np.array([50, 60], dtype=np.int64),
        "dur_ns": np.array([-1, 4], dtype=np.int64),
        "thread": [7, "8"],
        "kind": np.full(2, Kind.RUNTIME, dtype=np.int8),
        "name": ["cudaLaunchKernel", "relu"],
    }
    return Block(columns, 2)


def test_blocks_are_joined_checked_and_defaulted() -> None:
    with checked.collecting() as problems:
        table = checked.blocks_table([_kernels(), _calls()])
    assert table.column("start_ns").to_pylist() == [100, 300, 60]
    assert table.column("dur_ns").to_pylist() == [10, 20, 4]
    assert table.column("device").to_pylist() == [0, NONE, NONE]  # 2^31 out of range; calls: default
    assert table.column("thread").to_pylist() == [NONE, NONE, 8]  # kernels: default; "8" parsed
    assert table.column("kind").to_pylist() == [Kind.KERNEL, Kind.KERNEL, Kind.RUNTIME]
    assert table.column("name").to_pylist() == ["gemm", "relu", "relu"]
    dictionary = table.column("name").combine_chunks().dictionary.to_pylist()
    assert dictionary == ["gemm", "relu", "cudaLaunchKernel"]  # filtering keeps a dropped row's name
    assert problems.counts == {
        ("device", f"outside [{NONE}, {2**31 - 1}], read as unknown"): 1,
        ("dur_ns", "negative (end before start); event dropped"): 1,
    }


def test_blocks_table_equals_the_blocks_tables_concatenated() -> None:
    blocks = [_kernels(), _calls()]
    with checked.collecting() as joined_problems:
        joined = checked.blocks_table(blocks)
    with checked.collecting() as one_by_one_problems:
        tables = [checked.event_table(*block) for block in blocks]
    expected = pa.concat_tables(tables).unify_dictionaries().combine_chunks()
    assert joined.equals(expected)
    assert joined_problems.counts == one_by_one_problems.counts


def test_one_block_is_event_table() -> None:
    assert checked.blocks_table([_kernels()]).equals(checked.event_table(*_kernels()))
