#!/usr/bin/env python3
"""Export scikit-learn's 8x8 handwritten digits as an image folder.

    python3 scripts/digits_to_png.py OUT [--force]

writes the 1 797 images of `sklearn.datasets.load_digits()` (the copy of the UCI
optical digits that ships inside scikit-learn: nothing is downloaded) as
`OUT/<digit>/<index>.png`: 10 class folders `0` .. `9`, each image an 8x8 grey PNG
named by its index in the data set, zero-padded to four digits (`0000.png` ..
`1796.png`) so that name order is index order. Pixel values 0..16 are scaled to
0..255 as round(v * 255 / 16), halves rounded up (0 -> 0, 8 -> 128, 16 -> 255).

The output is deterministic: the same pixels, and the same file bytes (PNG written
here with zlib at level 9, no timestamps or other metadata), on every run. Needs
scikit-learn (and its numpy); the PNG encoder is the standard library's zlib.

OUT must be empty or absent unless --force is given (then files are overwritten,
and anything else in OUT stays). The folder is the one-set layout cnnvar's image
folder reader splits by seed, e.g.
`cargo run -p cnnvar-data --example folder -- OUT`.
"""

import argparse
import os
import struct
import sys
import zlib


def png_grey8(pixels, width, height):
    """The bytes of an 8-bit greyscale PNG of `pixels` (rows of ints 0..255)."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes(row) for row in pixels)  # filter 0 on every row
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def scale(v):
    """0..16 to 0..255, halves up."""
    v = int(round(float(v)))
    if not 0 <= v <= 16:
        raise ValueError(f"digit pixel {v} outside 0..16")
    return (v * 255 + 8) // 16


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder to write OUT/<digit>/<index>.png into")
    parser.add_argument("--force", action="store_true", help="write into a non-empty OUT")
    args = parser.parse_args()

    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("error: needs scikit-learn (e.g. `pip install scikit-learn` in a venv)")

    if os.path.isdir(args.out) and os.listdir(args.out) and not args.force:
        sys.exit(f"error: {args.out} is not empty; give an empty folder, or --force")

    digits = load_digits()
    images, targets = digits.images, digits.target
    if images.shape[1:] != (8, 8) or len(images) != len(targets):
        sys.exit(f"error: unexpected digits data of shape {images.shape}")

    counts = [0] * 10
    for index, (image, target) in enumerate(zip(images, targets)):
        label = int(target)
        folder = os.path.join(args.out, str(label))
        os.makedirs(folder, exist_ok=True)
        rows = [[scale(v) for v in row] for row in image]
        with open(os.path.join(folder, f"{index:04d}.png"), "wb") as f:
            f.write(png_grey8(rows, 8, 8))
        counts[label] += 1

    print(f"wrote {len(images)} images of 8x8 grey in 10 classes to {args.out}")
    print("per class: " + ", ".join(f"{d}: {n}" for d, n in enumerate(counts)))


if __name__ == "__main__":
    main()
