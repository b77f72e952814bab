"""RecordIO files, as Apache MXNet's mx.recordio: MXRecordIO, MXIndexedRecordIO, IRHeader,
pack/unpack, pack_img/unpack_img. Reading and writing go through the core (byte-compatible
with MXNet's .rec/.idx files); the image codecs are the core's (libjpeg-turbo, libpng), so no
OpenCV is needed. Images are NumPy arrays in OpenCV's BGR order, as MXNet's pack_img and
unpack_img take and give them."""
import numbers
import os
import struct
from collections import namedtuple
from multiprocessing import current_process

import numpy as np

from . import _core


class MXRecordIO(object):
    """Reads or writes a RecordIO file.

    Parameters
    ----------
    uri : str
        Path to the .rec file.
    flag : str
        'w' to write, 'r' to read.
    """

    def __init__(self, uri, flag):
        self.uri = os.fspath(uri)
        self.handle = None
        self.flag = flag
        self.pid = None
        self.is_open = False
        self.writable = None
        self.open()

    def open(self):
        """Opens the file (again)."""
        if self.flag == "w":
            self.handle = _core.recordio_open(self.uri, "w")
            self.writable = True
        elif self.flag == "r":
            self.handle = _core.recordio_open(self.uri, "r")
            self.writable = False
        else:
            raise ValueError("Invalid flag %s" % self.flag)
        self.pid = current_process().pid
        self.is_open = True

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __getstate__(self):
        is_open = self.is_open
        self.close()
        d = dict(self.__dict__)
        d["is_open"] = is_open
        d["handle"] = None
        return d

    def __setstate__(self, d):
        self.__dict__ = d
        is_open = d["is_open"]
        self.is_open = False
        self.handle = None
        if is_open:
            self.open()

    def _check_pid(self, allow_reset=False):
        if self.pid != current_process().pid:
            if allow_reset:
                self.reset()
            else:
                raise RuntimeError("Forbidden operation in multiple processes")

    def close(self):
        """Closes the file."""
        if not self.is_open:
            return
        handle, self.handle = self.handle, None
        self.is_open = False
        self.pid = None
        _core.recordio_close(handle)

    def reset(self):
        """Back to the start: closes and reopens (a writer truncates the file again)."""
        self.close()
        self.open()

    def write(self, buf):
        """Appends one record (bytes)."""
        assert self.writable
        self._check_pid(allow_reset=False)
        _core.recordio_write(self.handle, buf)

    def read(self):
        """The next record as bytes, or None at the end of the file."""
        assert not self.writable
        self._check_pid(allow_reset=True)
        return _core.recordio_read(self.handle)

    def tell(self):
        """Byte offset of the next record."""
        return _core.recordio_tell(self.handle)


class MXIndexedRecordIO(MXRecordIO):
    """A RecordIO file with an .idx text index ("key\\toffset" per line) for random access.

    Parameters
    ----------
    idx_path : str
        Path to the index file.
    uri : str
        Path to the .rec file.
    flag : str
        'w' to write, 'r' to read.
    key_type : type
        Type of the keys (int by default).
    """

    def __init__(self, idx_path, uri, flag, key_type=int):
        self.idx_path = os.fspath(idx_path)
        self.idx = {}
        self.keys = []
        self.key_type = key_type
        self.fidx = None
        super(MXIndexedRecordIO, self).__init__(uri, flag)

    def open(self):
        super(MXIndexedRecordIO, self).open()
        self.idx = {}
        self.keys = []
        self.fidx = open(self.idx_path, self.flag)
        if not self.writable:
            for line in iter(self.fidx.readline, ""):
                line = line.strip().split("\t")
                key = self.key_type(line[0])
                self.idx[key] = int(line[1])
                self.keys.append(key)

    def close(self):
        if not self.is_open:
            return
        super(MXIndexedRecordIO, self).close()
        self.fidx.close()

    def __getstate__(self):
        d = super(MXIndexedRecordIO, self).__getstate__()
        d["fidx"] = None
        return d

    def seek(self, idx):
        """Positions the reader at the record with key idx."""
        assert not self.writable
        self._check_pid(allow_reset=True)
        _core.recordio_seek(self.handle, self.idx[idx])

    def tell(self):
        return _core.recordio_tell(self.handle)

    def read_idx(self, idx):
        """The record with key idx."""
        self.seek(idx)
        return self.read()

    def write_idx(self, idx, buf):
        """Appends a record under key idx."""
        key = self.key_type(idx)
        pos = self.tell()
        self.write(buf)
        self.fidx.write("%s\t%d\n" % (str(key), pos))
        self.idx[key] = pos
        self.keys.append(key)


IRHeader = namedtuple("HEADER", ["flag", "label", "id", "id2"])
IRHeader.__doc__ = """An image record's header.

Parameters
----------
flag : int
    0 for a single label in `label`; the number of labels when `label` is an array.
label : float or an array of float
id : int
    A unique id for the record.
id2 : int
    Higher bits of the id, unused by default.
"""
_IR_FORMAT = "IfQQ"
_IR_SIZE = struct.calcsize(_IR_FORMAT)


def pack(header, s):
    """Packs a header and a byte string into one record (MXNet's format)."""
    header = IRHeader(*header)
    if isinstance(header.label, numbers.Number):
        header = header._replace(flag=0)
    else:
        label = np.asarray(header.label, dtype=np.float32)
        header = header._replace(flag=label.size, label=0)
        s = label.tobytes() + s
    s = struct.pack(_IR_FORMAT, *header) + s
    return s


def unpack(s):
    """Splits a record into (IRHeader, payload bytes)."""
    header = IRHeader(*struct.unpack(_IR_FORMAT, s[:_IR_SIZE]))
    s = s[_IR_SIZE:]
    if header.flag > 0:
        header = header._replace(label=np.frombuffer(s, np.float32, header.flag))
        s = s[header.flag * 4:]
    return header, s


def unpack_img(s, iscolor=-1):
    """Splits a record into (IRHeader, image): the image decoded as a NumPy uint8 array, BGR
    (h, w, 3) or gray (h, w), as OpenCV's imdecode gives it (iscolor: -1 as stored, 0 gray,
    1 color)."""
    header, s = unpack(s)
    channels = {-1: 0, 0: 1, 1: 3}.get(iscolor, 3)
    img = _core.image_decode(s, channels).asnumpy()
    if img.shape[2] == 1:
        return header, img[:, :, 0]
    return header, np.ascontiguousarray(img[:, :, ::-1])


def pack_img(header, img, quality=95, img_fmt=".jpg"):
    """Packs a header and an image (NumPy uint8, BGR (h, w, 3) or gray (h, w)) encoded as
    JPEG (quality 1..100) or PNG (quality = compression level 0..9)."""
    from . import ndarray as nd
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = img.astype(np.uint8)
    if img.ndim == 3 and img.shape[2] == 3:
        img = img[:, :, ::-1]  # BGR -> RGB for the core's encoder
    elif img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    fmt = img_fmt.upper()
    if fmt in (".JPG", ".JPEG"):
        kind, q = "jpeg", int(quality)
    elif fmt == ".PNG":
        kind, q = "png", min(max(int(quality), 0), 9)
    else:
        raise ValueError("img_fmt must be .jpg, .jpeg or .png, got %r" % img_fmt)
    arr = nd.array(np.ascontiguousarray(img), dtype="uint8")
    buf = _core.image_encode(arr, kind, q).asnumpy().tobytes()
    return pack(header, buf)
