"""mx.recordio against Apache MXNet 1.9.1's bytes (tests/data/recordio, made by
make_fixtures.py under MXNet), and mx.tools.im2rec on synthetic images."""
import os
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest

import mxnext as mx

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.path.dirname(HERE), "data", "recordio")
sys.path.insert(0, DATA)
from fixture_inputs import IMAGES, MAGIC_RECORDS, MULTILABEL, SCALAR  # noqa: E402

MAGIC = struct.pack("<I", 0xCED7230A)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def read_all(rec):
    out = []
    while True:
        r = rec.read()
        if r is None:
            return out
        out.append(r)


# ---- reading MXNet's files ----------------------------------------------------------------

def test_reads_mxnet_scalar_records_exactly():
    rec = mx.recordio.MXIndexedRecordIO(os.path.join(DATA, "scalar.idx"),
                                        os.path.join(DATA, "scalar.rec"), "r")
    assert rec.keys == list(range(len(SCALAR)))
    for i, (label, rid, id2, payload) in enumerate(SCALAR):
        header, s = mx.recordio.unpack(rec.read_idx(i))
        assert header.flag == 0
        assert header.label == np.float32(label)
        assert (header.id, header.id2) == (rid, id2)
        assert s == payload
    rec.close()


def test_reads_mxnet_multilabel_records_exactly():
    rec = mx.recordio.MXIndexedRecordIO(os.path.join(DATA, "multilabel.idx"),
                                        os.path.join(DATA, "multilabel.rec"), "r")
    for i in reversed(range(len(MULTILABEL))):  # random access
        labels, rid, id2, payload = MULTILABEL[i]
        header, s = mx.recordio.unpack(rec.read_idx(i))
        assert header.flag == len(labels)
        np.testing.assert_array_equal(header.label, np.asarray(labels, np.float32))
        assert (header.id, header.id2, s) == (rid, id2, payload)


def test_reads_mxnet_records_containing_the_magic():
    rec = mx.recordio.MXRecordIO(os.path.join(DATA, "magic.rec"), "r")
    assert read_all(rec) == MAGIC_RECORDS
    rec.reset()
    assert rec.read() == MAGIC_RECORDS[0]
    # MXNet split the aligned magics: the file holds continuation parts (cflag 1..3).
    raw = read_bytes(os.path.join(DATA, "magic.rec"))
    flags = {struct.unpack_from("<I", raw, off + 4)[0] >> 29
             for off in range(0, len(raw) - 7, 4)
             if raw[off:off + 4] == MAGIC}
    assert {0, 1, 2, 3} <= flags


def test_reads_mxnet_image_records_and_decodes_like_mxnet():
    ref = np.load(os.path.join(DATA, "mxnet_decoded.npz"))
    rec = mx.recordio.MXIndexedRecordIO(os.path.join(DATA, "images.idx"),
                                        os.path.join(DATA, "images.rec"), "r")
    for i, (label, rid, name) in enumerate(IMAGES):
        header, img = mx.recordio.unpack_img(rec.read_idx(i), iscolor=1)
        assert (header.label, header.id) == (label, rid)
        # unpack_img gives BGR like OpenCV; MXNet's mx.image.imdecode gives RGB.
        np.testing.assert_array_equal(img[:, :, ::-1], ref["decoded_" + name])
        gray_header, gray = mx.recordio.unpack_img(rec.read_idx(i), iscolor=0)
        assert gray.shape == img.shape[:2]


# ---- writing the same bytes as MXNet --------------------------------------------------------

def write_indexed(tmp_path, name, items):
    idx, path = str(tmp_path / (name + ".idx")), str(tmp_path / (name + ".rec"))
    rec = mx.recordio.MXIndexedRecordIO(idx, path, "w")
    for i, (label, rid, id2, payload) in enumerate(items):
        rec.write_idx(i, mx.recordio.pack(mx.recordio.IRHeader(0, label, rid, id2), payload))
    rec.close()
    return idx, path


@pytest.mark.parametrize("name,items", [("scalar", SCALAR), ("multilabel", MULTILABEL)])
def test_writes_the_bytes_mxnet_writes(tmp_path, name, items):
    idx, path = write_indexed(tmp_path, name, items)
    assert read_bytes(path) == read_bytes(os.path.join(DATA, name + ".rec"))
    assert read_bytes(idx) == read_bytes(os.path.join(DATA, name + ".idx"))


def test_writes_split_records_like_mxnet(tmp_path):
    path = str(tmp_path / "magic.rec")
    rec = mx.recordio.MXRecordIO(path, "w")
    for r in MAGIC_RECORDS:
        rec.write(r)
    rec.close()
    assert read_bytes(path) == read_bytes(os.path.join(DATA, "magic.rec"))


def test_writes_image_records_like_mxnet(tmp_path):
    items = []
    for label, rid, name in IMAGES:
        items.append((label, rid, 0, read_bytes(os.path.join(DATA, "images", name))))
    idx, path = write_indexed(tmp_path, "images", items)
    assert read_bytes(path) == read_bytes(os.path.join(DATA, "images.rec"))
    assert read_bytes(idx) == read_bytes(os.path.join(DATA, "images.idx"))


# ---- API behaviour ----------------------------------------------------------------------------

def test_pack_unpack_and_pack_img_roundtrip():
    h = mx.recordio.IRHeader(0, [1, 2, 3], 5, 0)
    s = mx.recordio.pack(h, b"xyz")
    assert len(s) == 24 + 12 + 3 and struct.unpack("IfQQ", s[:24]) == (3, 0.0, 5, 0)
    h2, body = mx.recordio.unpack(s)
    assert body == b"xyz" and list(h2.label) == [1, 2, 3]
    img = np.random.RandomState(0).randint(0, 255, (20, 24, 3)).astype(np.uint8)
    s = mx.recordio.pack_img(mx.recordio.IRHeader(0, 3.0, 1, 0), img, img_fmt=".png")
    h3, back = mx.recordio.unpack_img(s)
    np.testing.assert_array_equal(back, img)  # PNG is lossless, BGR in, BGR out
    smooth = np.tile(np.linspace(0, 255, 24, dtype=np.uint8)[None, :, None], (20, 1, 3))
    _, jpg = mx.recordio.unpack_img(mx.recordio.pack_img(h3, smooth, quality=95))
    assert np.abs(jpg.astype(int) - smooth).mean() < 3


def test_tell_seek_reset_close_pickle(tmp_path):
    path = str(tmp_path / "a.rec")
    w = mx.recordio.MXRecordIO(path, "w")
    offsets = []
    for i in range(5):
        offsets.append(w.tell())
        w.write(b"r%d" % i * (i + 1))
    w.close()
    w.close()  # twice is fine
    r = mx.recordio.MXRecordIO(path, "r")
    assert r.read() == b"r0"
    r2 = pickle.loads(pickle.dumps(r))  # reopens, at the start
    assert read_all(r2) == [b"r%d" % i * (i + 1) for i in range(5)]
    r.reset()
    assert len(read_all(r)) == 5
    with pytest.raises(mx.MXNetIOError):
        mx.recordio.MXRecordIO(str(tmp_path / "missing.rec"), "r")
    with pytest.raises(ValueError):
        mx.recordio.MXRecordIO(path, "x")


def test_truncated_file_is_a_format_error_naming_file_and_record(tmp_path):
    raw = read_bytes(os.path.join(DATA, "scalar.rec"))
    path = tmp_path / "bad.rec"
    path.write_bytes(raw[:-6])
    r = mx.recordio.MXRecordIO(str(path), "r")
    with pytest.raises(mx.FormatError) as e:
        read_all(r)
    assert "bad.rec" in str(e.value) and "record 7" in str(e.value)
    # a header claiming ~512 MB in a tiny file: refused before allocating
    path.write_bytes(MAGIC + struct.pack("<I", (1 << 29) - 1) + b"tiny")
    with pytest.raises(mx.FormatError):
        mx.recordio.MXRecordIO(str(path), "r").read()


# ---- im2rec -----------------------------------------------------------------------------------

def make_image_tree(root, per_class=4):
    from PIL import Image
    rng = np.random.RandomState(3)
    for c, name in enumerate(["cat", "dog", "fish"]):
        os.makedirs(root / name)
        for k in range(per_class):
            h, w = 40 + 4 * k, 60 - 3 * k
            img = rng.randint(0, 255, (h, w, 3)).astype(np.uint8)
            Image.fromarray(img).save(str(root / name / ("%d.jpg" % k)), quality=90)
            if k == 0:
                Image.fromarray(img).save(str(root / name / "extra.png"))


def run_im2rec(*args):
    return subprocess.run([sys.executable, "-m", "mxnext.tools.im2rec", *map(str, args)],
                          capture_output=True, text=True, check=True)


def test_im2rec_list_and_pack(tmp_path):
    root = tmp_path / "images"
    make_image_tree(root)
    prefix = tmp_path / "data"
    run_im2rec("--list", "--recursive", "--train-ratio", "0.75", prefix, root)
    train = (tmp_path / "data_train.lst").read_text().splitlines()
    val = (tmp_path / "data_val.lst").read_text().splitlines()
    assert len(train) == 11 and len(val) == 4  # int(15 * 0.75) = 11
    labels = {line.split("\t")[2].split("/")[0]: float(line.split("\t")[1]) for line in train + val}
    assert labels == {"cat": 0.0, "dog": 1.0, "fish": 2.0}
    run_im2rec("--resize", "32", "--center-crop", "--num-thread", "3", "--quality", "90",
               tmp_path / "data_train", root)
    rec = mx.recordio.MXIndexedRecordIO(str(tmp_path / "data_train.idx"),
                                        str(tmp_path / "data_train.rec"), "r")
    assert len(rec.keys) == 11
    for line in train:
        idx, label, rel = line.split("\t")
        header, img = mx.recordio.unpack_img(rec.read_idx(int(idx)))
        assert header.label == float(label) and header.id == int(idx)
        assert img.shape == (32, 32, 3)  # centre-cropped square, shorter side 32
    # --pass-through keeps the file bytes; --pack-label packs multi-labels
    lst = tmp_path / "multi.lst"
    lst.write_text("0\t1.000000\t2.000000\tcat/0.jpg\n1\t3.000000\t4.000000\tdog/1.jpg\n")
    run_im2rec("--pass-through", "--pack-label", tmp_path / "multi", root)
    rec = mx.recordio.MXIndexedRecordIO(str(tmp_path / "multi.idx"),
                                        str(tmp_path / "multi.rec"), "r")
    header, s = mx.recordio.unpack(rec.read_idx(1))
    assert list(header.label) == [3.0, 4.0]
    assert s == read_bytes(root / "dog" / "1.jpg")
