"""Makes image lists and RecordIO files, with the options of Apache MXNet's tools/im2rec.py.

    python -m mxnext.tools.im2rec --list --recursive data/train images/      # data/train.lst
    python -m mxnext.tools.im2rec --resize 256 --num-thread 4 data/train images/   # .rec + .idx

A .lst line is "index<TAB>label(s)<TAB>relative path". Images are decoded and encoded by the
core (libjpeg-turbo, libpng) on --num-thread threads; records are written in list order."""
import argparse
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import _core
from .. import recordio


def list_image(root, recursive, exts):
    i = 0
    if recursive:
        cat = {}
        for path, dirs, files in os.walk(root, followlinks=True):
            dirs.sort()
            files.sort()
            for fname in files:
                fpath = os.path.join(path, fname)
                suffix = os.path.splitext(fname)[1].lower()
                if os.path.isfile(fpath) and (suffix in exts):
                    if path not in cat:
                        cat[path] = len(cat)
                    yield (i, os.path.relpath(fpath, root), cat[path])
                    i += 1
        for k, v in sorted(cat.items(), key=lambda x: x[1]):
            print(os.path.relpath(k, root), v)
    else:
        for fname in sorted(os.listdir(root)):
            fpath = os.path.join(root, fname)
            suffix = os.path.splitext(fname)[1].lower()
            if os.path.isfile(fpath) and (suffix in exts):
                yield (i, os.path.relpath(fpath, root), 0)
                i += 1


def write_list(path_out, image_list):
    with open(path_out, "w") as fout:
        for item in image_list:
            line = "%d\t" % item[0]
            for j in item[2:]:
                line += "%f\t" % j
            line += "%s\n" % item[1]
            fout.write(line)


def make_list(args):
    image_list = list(list_image(args.root, args.recursive, args.exts))
    if args.shuffle is True:
        random.seed(100)
        random.shuffle(image_list)
    n = len(image_list)
    chunk_size = (n + args.chunks - 1) // args.chunks
    for i in range(args.chunks):
        chunk = image_list[i * chunk_size:(i + 1) * chunk_size]
        str_chunk = "_%d" % i if args.chunks > 1 else ""
        sep = int(chunk_size * args.train_ratio)
        sep_test = int(chunk_size * args.test_ratio)
        if args.train_ratio == 1.0:
            write_list(args.prefix + str_chunk + ".lst", chunk)
        else:
            if args.test_ratio:
                write_list(args.prefix + str_chunk + "_test.lst", chunk[:sep_test])
            if args.train_ratio + args.test_ratio < 1.0:
                write_list(args.prefix + str_chunk + "_val.lst", chunk[sep_test + sep:])
            write_list(args.prefix + str_chunk + "_train.lst", chunk[sep_test:sep_test + sep])


def read_list(path_in):
    with open(path_in) as fin:
        for line in fin:
            line = [i.strip() for i in line.strip().split("\t")]
            if len(line) < 3:
                print("lst should have at least has three parts, but only has %s parts for %s"
                      % (len(line), line))
                continue
            try:
                item = [int(line[0])] + [line[-1]] + [float(i) for i in line[1:-1]]
            except Exception as e:  # noqa: BLE001 - reported and skipped, as MXNet does
                print("Parsing lst met error for %s, detail: %s" % (line, e))
                continue
            yield item


def _resize(img, width, height):
    """Bilinear resize of a uint8 (h, w[, c]) array (pixel centres aligned)."""
    h, w = img.shape[:2]
    ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
    xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    wy = (ys - y0).astype(np.float32)
    wx = (xs - x0).astype(np.float32)
    f = img.astype(np.float32)
    if f.ndim == 3:
        wy = wy[:, None, None]
        wx = wx[None, :, None]
    else:
        wy = wy[:, None]
        wx = wx[None, :]
    top = f[y0][:, x0] * (1 - wx) + f[y0][:, x1] * wx
    bot = f[y1][:, x0] * (1 - wx) + f[y1][:, x1] * wx
    return np.clip(top * (1 - wy) + bot * wy + 0.5, 0, 255).astype(np.uint8)


def _imread(path, color):
    """Reads an image as OpenCV's imread(path, color) would: BGR (h, w, 3) or gray (h, w)."""
    with open(path, "rb") as f:
        buf = f.read()
    img = _core.image_decode(buf, {1: 3, 0: 1, -1: 0}[color]).asnumpy()
    if img.shape[2] == 1:
        return img[:, :, 0]
    return img[:, :, ::-1]


def image_encode(args, item):
    fullpath = os.path.join(args.root, item[1])
    if len(item) > 3 and args.pack_label:
        header = recordio.IRHeader(0, item[2:], item[0], 0)
    else:
        header = recordio.IRHeader(0, item[2], item[0], 0)
    if args.pass_through:
        with open(fullpath, "rb") as fin:
            return recordio.pack(header, fin.read())
    try:
        img = _imread(fullpath, args.color)
    except Exception as e:  # noqa: BLE001 - reported and skipped, as MXNet does
        print("imread read blank (None) image for file: %s (%s)" % (fullpath, e))
        return None
    if args.center_crop:
        if img.shape[0] > img.shape[1]:
            margin = (img.shape[0] - img.shape[1]) // 2
            img = img[margin:margin + img.shape[1], :]
        else:
            margin = (img.shape[1] - img.shape[0]) // 2
            img = img[:, margin:margin + img.shape[0]]
    if args.resize:
        if img.shape[0] > img.shape[1]:
            newsize = (args.resize, img.shape[0] * args.resize // img.shape[1])
        else:
            newsize = (img.shape[1] * args.resize // img.shape[0], args.resize)
        img = _resize(img, *newsize)
    return recordio.pack_img(header, img, quality=args.quality, img_fmt=args.encoding)


def pack(args, fname):
    image_list = list(read_list(fname))
    prefix = os.path.splitext(fname)[0]
    rec = recordio.MXIndexedRecordIO(prefix + ".idx", prefix + ".rec", "w")
    tic = time.time()
    count = 0
    with ThreadPoolExecutor(max_workers=max(1, args.num_thread)) as pool:
        for item, s in zip(image_list, pool.map(lambda it: image_encode(args, it), image_list)):
            if s is None:
                continue
            rec.write_idx(item[0], s)
            count += 1
            if count % 1000 == 0:
                print("time:", time.time() - tic, " count:", count)
                tic = time.time()
    rec.close()
    return count


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Create an image list or make a record database by reading from an image "
                    "list")
    parser.add_argument("prefix", help="prefix of input/output lst and rec files.")
    parser.add_argument("root", help="path to folder containing images.")
    cgroup = parser.add_argument_group("Options for creating image lists")
    cgroup.add_argument("--list", action="store_true",
                        help="If this is set im2rec will create image list(s) by traversing "
                             "root folder and output to <prefix>.lst. Otherwise im2rec will "
                             "read <prefix>.lst and create a database at <prefix>.rec")
    cgroup.add_argument("--exts", nargs="+", default=[".jpeg", ".jpg", ".png"],
                        help="list of acceptable image extensions.")
    cgroup.add_argument("--chunks", type=int, default=1, help="number of chunks.")
    cgroup.add_argument("--train-ratio", type=float, default=1.0,
                        help="Ratio of images to use for training.")
    cgroup.add_argument("--test-ratio", type=float, default=0,
                        help="Ratio of images to use for testing.")
    cgroup.add_argument("--recursive", action="store_true",
                        help="If true recursively walk through subdirs and assign an unique "
                             "label to images in each folder. Otherwise only include images in "
                             "the root folder and give them label 0.")
    cgroup.add_argument("--no-shuffle", dest="shuffle", action="store_false",
                        help="If this is passed, im2rec will not randomize the image order in "
                             "<prefix>.lst")
    rgroup = parser.add_argument_group("Options for creating database")
    rgroup.add_argument("--pass-through", action="store_true",
                        help="whether to skip transformation and save image as is")
    rgroup.add_argument("--resize", type=int, default=0,
                        help="resize the shorter edge of image to the newsize, original images "
                             "will be packed by default.")
    rgroup.add_argument("--center-crop", action="store_true",
                        help="specify whether to crop the center image to make it rectangular.")
    rgroup.add_argument("--quality", type=int, default=95,
                        help="JPEG quality for encoding, 1-100; or PNG compression for "
                             "encoding, 1-9")
    rgroup.add_argument("--num-thread", type=int, default=1,
                        help="number of thread to use for encoding. order of images will be "
                             "different from the input list if >1. the input list will be "
                             "modified to match the resulting order.")
    rgroup.add_argument("--color", type=int, default=1, choices=[-1, 0, 1],
                        help="specify the color mode of the loaded image. 1: Loads a color "
                             "image. Any transparency of image will be neglected. It is the "
                             "default flag. 0: Loads image in grayscale mode. -1:Loads image as "
                             "such including alpha channel.")
    rgroup.add_argument("--encoding", type=str, default=".jpg", choices=[".jpg", ".png"],
                        help="specify the encoding of the images.")
    rgroup.add_argument("--pack-label", action="store_true",
                        help="Whether to also pack multi dimensional label in the record file")
    args = parser.parse_args(argv)
    args.prefix = os.path.abspath(args.prefix)
    args.root = os.path.abspath(args.root)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        make_list(args)
        return 0
    if os.path.isdir(args.prefix):
        working_dir = args.prefix
    else:
        working_dir = os.path.dirname(args.prefix)
    files = [os.path.join(working_dir, fname) for fname in sorted(os.listdir(working_dir))
             if os.path.isfile(os.path.join(working_dir, fname))]
    count = 0
    for fname in files:
        if fname.startswith(args.prefix) and fname.endswith(".lst"):
            print("Creating .rec file from", fname, "in", working_dir)
            count += 1
            pack(args, fname)
    if not count:
        print("Did not find and list file with prefix %s" % args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
