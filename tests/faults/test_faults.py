"""The CI subset of the fault-injection suite (the full run: tests/faults/run_full.py).

Seeded: the same trials and cases run every time.
"""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dings.format import DamagedDataError, InvalidSampleError, UnsafeDataError, packb, unpack_sample
from dings.format.writer import packed_key

if not hasattr(__import__("os"), "fork"):  # pragma: no cover - the kill trials fork
    pytest.skip("the fault-injection suite needs os.fork", allow_module_level=True)


from . import faults_harness as harness


@pytest.mark.parametrize("operation", harness.OPERATIONS)
def test_killed_or_interrupted_writes_leave_the_old_or_the_new_generation(tmp_path, operation):
    trials = [harness.run_trial(tmp_path, operation, mode, seed) for seed, mode in enumerate(harness.MODES)]
    problems = list(harness.iter_problems(trials))
    assert problems == []
    assert all(t.outcome in ("old", "new", "none") for t in trials)


@pytest.fixture(scope="module")
def damaged_cases(tmp_path_factory):
    return harness.run_cases(tmp_path_factory.mktemp("cases"), 140, seed=20)


def test_verify_never_calls_a_damaged_dataset_good(damaged_cases):
    summary = harness.summarize_cases(damaged_cases)
    assert summary["cases"] >= 130
    assert set(summary["by_kind"]) == set(harness.KINDS)
    assert summary["verify_good"] == 0
    verify_problems = [p for p in harness.iter_problems(damaged_cases) if ": verify" in p]
    assert verify_problems == []


def test_damaged_data_never_hangs_or_blows_up_memory(damaged_cases):
    summary = harness.summarize_cases(damaged_cases)
    assert summary["hangs"] == 0 and summary["memory"] == 0


def test_reading_damaged_data_raises_only_documented_errors(damaged_cases):
    assert list(harness.iter_problems(damaged_cases)) == []


# --- the format-level pieces, property-based ---


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_unpack_sample_of_any_bytes_is_a_sample_or_one_clear_error(data):
    try:
        sample = unpack_sample(data, path="d.msgpack", index=3)
    except DamagedDataError as exc:
        assert str(exc).startswith("d.msgpack: sample 3") and exc.index == 3 and exc.path == "d.msgpack"
    except UnsafeDataError as exc:
        assert "d.msgpack: sample 3" in str(exc)
    else:
        assert isinstance(sample, dict)


values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=8) | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), values, max_size=4), st.text(max_size=20), st.booleans())
def test_packed_key_reads_the_key_wherever_it_is(other, key, first):
    other.pop("key", None)
    sample = {"key": key, **other} if first else {**other, "key": key}
    assert packed_key(packb(sample)) == key
    assert packed_key(packb(other)) is None


def test_packed_key_of_a_non_map_is_an_invalid_sample():
    with pytest.raises(InvalidSampleError):
        packed_key(msgpack.packb([1, 2]))
