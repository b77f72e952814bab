"""Issue 8's bar: the demo's training reads its data through ImageRecordIter (digits packed as
PNG records) and reaches the same accuracy as through NDArrayIter."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "examples", "python"))

import train_mnist  # noqa: E402


def test_image_record_iter_trains_as_well_as_ndarray_iter():
    from_arrays = train_mnist.train(epochs=5, data="ndarray", log=False)
    from_records = train_mnist.train(epochs=5, data="rec", log=False)
    assert from_arrays >= 0.96 and from_records >= 0.96, (from_arrays, from_records)
    assert abs(from_arrays - from_records) <= 0.015, (from_arrays, from_records)
