"""Writes the RecordIO compatibility fixtures of tests/data/recordio with Apache MXNet 1.9.1.

    .venv-io/bin/python tests/data/recordio/make_fixtures.py          # from the repository root

Step 1 (this interpreter, Pillow): the small synthetic images in images/ (skipped when they
exist, so the committed images stay the inputs). Step 2 (.venv-mxnet, `import mxnet`): the
.rec/.idx files through mx.recordio, and what MXNet's own decoder and ImageRecordIter make of
the image records (mxnet_decoded.npz), so that the tests (which run without MXNet) compare
mxnext against MXNet's bytes and pixels. Inputs are in fixture_inputs.py."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def make_images():
    import numpy as np
    from PIL import Image
    os.makedirs(os.path.join(HERE, "images"), exist_ok=True)
    rng = np.random.RandomState(42)
    sizes = [(40, 52), (36, 36), (48, 30), (33, 45), (40, 40), (44, 56)]
    for k, (h, w) in enumerate(sizes):
        name = f"img{k}.png" if k == 4 else f"img{k}.jpg"
        path = os.path.join(HERE, "images", name)
        if os.path.exists(path):
            continue
        yy, xx = np.mgrid[0:h, 0:w]
        img = np.stack([(xx * 255 // w), (yy * 255 // h), (xx + yy) * 4 % 256], -1)
        img = (img + rng.randint(0, 30, img.shape)).clip(0, 255).astype(np.uint8)
        if name.endswith(".png"):
            Image.fromarray(img).save(path)
        else:
            Image.fromarray(img).save(path, quality=90)


MXNET_PART = r'''
import os, sys
import numpy as np
import mxnet as mx
sys.path.insert(0, HERE)
from fixture_inputs import SCALAR, MULTILABEL, MAGIC_RECORDS, IMAGES
IRHeader = mx.recordio.IRHeader

def indexed(name, items):
    rec = mx.recordio.MXIndexedRecordIO(os.path.join(HERE, name + ".idx"),
                                        os.path.join(HERE, name + ".rec"), "w")
    for i, (label, rid, id2, payload) in enumerate(items):
        rec.write_idx(i, mx.recordio.pack(IRHeader(0, label, rid, id2), payload))
    rec.close()

indexed("scalar", SCALAR)
indexed("multilabel", MULTILABEL)
rec = mx.recordio.MXRecordIO(os.path.join(HERE, "magic.rec"), "w")
for payload in MAGIC_RECORDS:
    rec.write(payload)
rec.close()
images = []
for label, rid, name in IMAGES:
    with open(os.path.join(HERE, "images", name), "rb") as f:
        images.append((label, rid, 0, f.read()))
indexed("images", images)

# What MXNet decodes (RGB, HWC) and what its ImageRecordIter gives for a 3x32x32 centre crop.
out = {}
for (label, rid, name) in IMAGES:
    with open(os.path.join(HERE, "images", name), "rb") as f:
        out["decoded_" + name] = mx.image.imdecode(f.read()).asnumpy()
it = mx.io.ImageRecordIter(path_imgrec=os.path.join(HERE, "images.rec"), data_shape=(3, 32, 32),
                           batch_size=6, preprocess_threads=1, shuffle=False, round_batch=False)
batch = it.next()
out["iter_data"] = batch.data[0].asnumpy()
out["iter_label"] = batch.label[0].asnumpy()
it = mx.io.ImageRecordIter(path_imgrec=os.path.join(HERE, "images.rec"), data_shape=(3, 32, 32),
                           batch_size=6, preprocess_threads=1, mean_r=123.68, mean_g=116.28,
                           mean_b=103.53, std_r=58.395, std_g=57.12, std_b=57.375)
out["iter_data_norm"] = it.next().data[0].asnumpy()
np.savez_compressed(os.path.join(HERE, "mxnet_decoded.npz"), **out)
print("mxnet", mx.__version__, "wrote the fixtures")
'''


def main():
    make_images()
    py = os.path.join(ROOT, ".venv-mxnet", "bin", "python")
    code = f"HERE = {HERE!r}\n" + MXNET_PART
    subprocess.run([py, "-c", code], check=True)


if __name__ == "__main__":
    main()
