#!/usr/bin/env python3
"""Convert scikit-learn's copy of the UCI 8x8 handwritten digits into digits.bin.

Run once, from the repository root, with scikit-learn installed in the venv:

    .venv/bin/pip install -r Benchmarks/peers/requirements-data.txt   # scikit-learn
    .venv/bin/python Benchmarks/data/convert_digits.py            # writes Benchmarks/data/digits.bin
    .venv/bin/python Benchmarks/data/convert_digits.py --check    # re-reads it and compares with sklearn

Format (all integers little-endian; see README.md in this folder):

    offset  size        field
    0       8           magic  b"DIGITS01"
    8       4  uint32   N        number of images (1797)
    12      4  uint32   H        image height (8)
    16      4  uint32   W        image width  (8)
    20      4  uint32   NTRAIN   number of training images (1437); NTEST = N - NTRAIN (360)
    24      N*H*W uint8 pixels, image after image, each row-major (row 0 first), values 0..16
    24+N*H*W  N uint8   labels 0..9
    24+N*H*W+N  N uint16 split permutation: a permutation of 0..N-1; entries [0, NTRAIN) are
                        the training images, entries [NTRAIN, N) the test images (in that order)

The split permutation is a Fisher-Yates shuffle of [0, 1, ..., N-1] driven by SplitMix64
with seed SPLIT_SEED (= 1797), exactly the shuffle of Benchmarks/peers/models/INIT.md:
for i = N-1 down to 1: j = next() mod (i+1); swap(p[i], p[j]).
"""
import argparse
import hashlib
import os
import struct
import sys

MAGIC = b"DIGITS01"
SPLIT_SEED = 1797
N_TRAIN = 1437
MASK64 = (1 << 64) - 1
HERE = os.path.dirname(os.path.abspath(__file__))


def splitmix64(state):
    """Returns (new_state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def fisher_yates(n, seed):
    p = list(range(n))
    state = seed & MASK64
    for i in range(n - 1, 0, -1):
        state, r = splitmix64(state)
        j = r % (i + 1)
        p[i], p[j] = p[j], p[i]
    return p


def encode(images, labels, perm, n_train):
    n = len(labels)
    h, w = 8, 8
    out = bytearray(MAGIC)
    out += struct.pack("<4I", n, h, w, n_train)
    for img in images:
        assert len(img) == h * w
        out += bytes(int(v) for v in img)
    out += bytes(int(v) for v in labels)
    out += struct.pack(f"<{n}H", *perm)
    return bytes(out)


def decode(blob):
    """Returns dict(images=list of 64-byte rows, labels, perm, n_train, h, w)."""
    assert blob[:8] == MAGIC, "bad magic"
    n, h, w, n_train = struct.unpack_from("<4I", blob, 8)
    off = 24
    px = blob[off:off + n * h * w]; off += n * h * w
    labels = blob[off:off + n]; off += n
    perm = struct.unpack_from(f"<{n}H", blob, off); off += 2 * n
    assert off == len(blob), "trailing bytes"
    images = [px[i * h * w:(i + 1) * h * w] for i in range(n)]
    return dict(images=images, labels=list(labels), perm=list(perm), n_train=n_train, h=h, w=w)


def load_sklearn():
    import sklearn
    from sklearn.datasets import load_digits
    d = load_digits()
    data = d.data.astype("int64")
    assert data.shape == (1797, 64) and data.min() == 0 and data.max() == 16
    images = [list(map(int, row)) for row in data]
    labels = list(map(int, d.target))
    return images, labels, sklearn.__version__


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "digits.bin"))
    ap.add_argument("--check", action="store_true", help="verify an existing file against sklearn")
    args = ap.parse_args()
    images, labels, version = load_sklearn()
    perm = fisher_yates(len(labels), SPLIT_SEED)
    blob = encode(images, labels, perm, N_TRAIN)
    if args.check:
        with open(args.out, "rb") as f:
            have = f.read()
        d = decode(have)
        ok = have == blob and [list(x) for x in d["images"]] == images and d["labels"] == labels
        print(f"{args.out}: {'OK' if ok else 'MISMATCH'} (sha256 {hashlib.sha256(have).hexdigest()})")
        return 0 if ok else 1
    with open(args.out, "wb") as f:
        f.write(blob)
    train = perm[:N_TRAIN]
    counts = [sum(1 for i in train if labels[i] == c) for c in range(10)]
    print(f"wrote {args.out}: {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}")
    print(f"scikit-learn {version}; N={len(labels)} train={N_TRAIN} test={len(labels) - N_TRAIN}")
    print(f"first 8 permutation entries: {perm[:8]}; last 4: {perm[-4:]}")
    print(f"training labels per class: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
