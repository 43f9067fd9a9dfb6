"""Every real trace's key numbers and ranked recommendations against its golden snapshot
(tests/data/golden/); `pytest --update-golden` rewrites them after a change explained in its commit."""

from __future__ import annotations

import pytest
from golden import LOCAL_INPUTS, ROOT, SHARED_INPUTS, SHARED_TRACES, read, snapshot, write


def _path(relative: str):
    if relative in LOCAL_INPUTS:
        return ROOT / relative
    path = SHARED_TRACES / relative
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/traces is not beside this checkout)")
    return path


@pytest.mark.parametrize("relative", SHARED_INPUTS + LOCAL_INPUTS)
def test_key_numbers_match_the_golden_snapshot(relative: str, request: pytest.FixtureRequest) -> None:
    numbers = snapshot(_path(relative))
    if request.config.getoption("--update-golden"):
        write(relative, numbers)
        return
    expected = read(relative)
    assert expected is not None, f"no snapshot for {relative}: run pytest --update-golden"
    assert numbers == expected
