"""Variable storage: small variables side by side in shared blocks, large ones alone; runs found back."""

import numpy as np
import pytest

from glassnet import backend
from glassnet.autodiff.tensor import Variable
from glassnet.kernels import storage

fast = pytest.mark.fast_kernels


@pytest.fixture(autouse=True)
def fresh_blocks(monkeypatch):
    """Each test starts with no block open, as a fresh process does (the block the tests before left open is put
    back afterwards): a block left nearly full split the arrays these tests expect back to back, so they failed or
    passed depending on which tests ran before them."""
    monkeypatch.setattr(storage, "_open_blocks", {})


@fast
def test_small_arrays_share_a_block_back_to_back_and_large_ones_do_not():
    a, b = storage.allocate((3, 5), "float32"), storage.allocate((7,), "float32")
    large = storage.allocate((storage.SMALL_SIZE,), "float32")
    assert a.base is b.base and a.base.size == storage.BLOCK_SIZE
    assert large.base is None and large.flags.owndata
    assert a.flags.c_contiguous and a.flags.writeable and not a.any()
    runs = storage.contiguous_runs([b, large, a])
    assert [indices for indices, _ in runs] == [[2, 0]]
    flat = runs[0][1]
    flat[:] = np.arange(22)
    np.testing.assert_array_equal(a.ravel(), np.arange(15))
    np.testing.assert_array_equal(b, np.arange(15, 22))


@fast
def test_a_full_block_starts_a_new_one_and_dtypes_keep_apart():
    first = storage.allocate((storage.SMALL_SIZE - 1,), "float64")
    per_block = storage.BLOCK_SIZE // storage.SMALL_SIZE
    filler = [storage.allocate((storage.SMALL_SIZE - 1,), "float64") for _ in range(per_block)]
    assert filler[-1].base is not first.base
    assert storage.allocate((4,), "float32").base is not storage.allocate((4,), "float64").base
    assert storage.contiguous_runs([first, filler[-1]]) == []


@fast
def test_variables_keep_their_values_in_the_blocks():
    v = Variable(np.arange(6.0).reshape(2, 3), dtype="float32")
    w = Variable([1.0, 2.0], dtype="float32")
    assert v.storage.base is w.storage.base
    v.assign_sub(np.ones((2, 3)))
    np.testing.assert_array_equal(v.value, np.arange(6.0).reshape(2, 3) - 1)
    np.testing.assert_array_equal(w.value, [1.0, 2.0])


@fast
def test_slots_lie_where_their_weights_lie_in_twin_blocks():
    a, b = storage.allocate((2, 3), "float64"), storage.allocate((4,), "float64")
    twins, other = storage.Twins(), storage.Twins()
    va, vb = twins.zeros_like(a, "velocity"), twins.zeros_like(b, "velocity")
    ma = twins.zeros_like(a, "momentum")
    assert va.shape == (2, 3) and vb.shape == (4,) and not va.any()
    assert va.base is vb.base and ma.base is not va.base  # one twin block per name
    assert other.zeros_like(a, "velocity").base is not va.base  # each owner its own
    (indices, weights, velocities), = storage.contiguous_runs([a, b], [va, vb])
    assert indices == [0, 1] and weights.size == velocities.size == 10
    velocities[:] = np.arange(10)
    np.testing.assert_array_equal(vb, np.arange(6, 10))
    assert storage.contiguous_runs([a, b], [va, np.zeros(4)]) == []  # a slot elsewhere breaks the run
    lone = np.zeros(5)
    assert twins.zeros_like(lone, "velocity").base is None


def test_numpy_kernels_give_every_array_its_own(monkeypatch):
    monkeypatch.setattr(backend, "_kernels", "numpy")
    a, b = storage.allocate((3,), "float32"), storage.allocate((3,), "float32")
    assert a.flags.owndata and b.flags.owndata and storage.contiguous_runs([a, b]) == []
    assert storage.Twins().zeros_like(a, "velocity").flags.owndata
