"""The inputs of the RecordIO fixtures: imported by make_fixtures.py (under Apache MXNet 1.9.1)
and by the tests (under mxnext), which write the same inputs and compare the bytes."""
import struct

MAGIC = struct.pack("<I", 0xCED7230A)

# scalar.rec/.idx: one IRHeader-packed record per entry (flag 0, label, id, id2), payload
# lengths 0..7 so that every padding length appears.
SCALAR = [(float(i) * 1.5 - 2.0, i, 100 + i, bytes(range(i * 3, i * 3 + i))) for i in range(8)]

# multilabel.rec/.idx: labels as arrays (flag = number of labels).
MULTILABEL = [([1.0, 2.0, 3.0], 7, 0, b"three labels"),
              ([0.5], 8, 1, b"one label in an array"),
              ([float(k) for k in range(10)], 9, 2, b"ten")]

# magic.rec: raw records whose payloads contain the magic at aligned and unaligned offsets.
MAGIC_RECORDS = [
    MAGIC,                                    # just the magic: split into two empty parts
    b"abcd" + MAGIC + b"efgh",                # aligned, in the middle
    MAGIC + MAGIC + b"xy",                    # twice, at the start
    b"ab" + MAGIC + b"cd",                    # unaligned: not split
    b"12345678" + MAGIC,                      # aligned, at the end
    b"plain record",
    b"",                                      # empty record
    MAGIC * 3 + b"z",
]

# images.rec/.idx: (label, id, file name in images/) packed with recordio.pack.
IMAGES = [(0.0, 0, "img0.jpg"), (1.0, 1, "img1.jpg"), (2.0, 2, "img2.jpg"),
          (3.0, 3, "img3.jpg"), (4.0, 4, "img4.png"), (5.0, 5, "img5.jpg")]
