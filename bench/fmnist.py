"""Fashion-MNIST IDX reading and the command line shared by the reference benchmarks.

Not run on its own: `keras_bench.py` and `torch_bench.py` import it. It uses only the
standard library, so that each framework's script can turn the raw bytes into its own
tensors (the torch venv has no NumPy).
"""

import argparse
import gzip
import json
import os
import struct
import sys

# The four files, each looked for as NAME.gz first, then NAME (as cnnvar does).
TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

DEFAULT_DATA_DIR = os.environ.get("CNNVAR_DATA_DIR", "/usr/share/datasets/fashion-mnist")


class DataError(Exception):
    """A data file is missing or malformed; the message names the file."""


def _open(data_dir, name):
    """Returns (path, bytes) of NAME.gz or NAME in data_dir."""
    for candidate, opener in ((name + ".gz", gzip.open), (name, open)):
        path = os.path.join(data_dir, candidate)
        if os.path.exists(path):
            try:
                with opener(path, "rb") as f:
                    return path, f.read()
            except (OSError, EOFError) as e:
                raise DataError(f"{path}: cannot read: {e}") from e
    raise DataError(f"{data_dir}: neither {name}.gz nor {name} exists")


def _read_idx(data_dir, name, magic, dims, limit):
    """Header dimensions and the payload bytes of the first `limit` records."""
    path, data = _open(data_dir, name)
    header = 4 + 4 * dims
    if len(data) < header:
        raise DataError(f"{path}: truncated header ({len(data)} bytes)")
    (found,) = struct.unpack(">I", data[:4])
    if found != magic:
        raise DataError(f"{path}: magic number {found:#010x}, expected {magic:#010x}")
    shape = struct.unpack(">" + "I" * dims, data[4:header])
    record = 1
    for d in shape[1:]:
        record *= d
    count = min(shape[0], limit)
    if len(data) < header + count * record:
        raise DataError(f"{path}: truncated: {count} records need {header + count * record} bytes, file has {len(data)}")
    return shape, count, data[header : header + count * record]


def load(data_dir, split, limit):
    """The first `limit` examples of `split` ("train" or "test"): (images, labels, n,
    rows, cols), images as raw u8 bytes in row-major (n, rows, cols) order."""
    images_name, labels_name = (TRAIN_IMAGES, TRAIN_LABELS) if split == "train" else (TEST_IMAGES, TEST_LABELS)
    shape, n, images = _read_idx(data_dir, images_name, 0x00000803, 3, limit)
    _, n_labels, labels = _read_idx(data_dir, labels_name, 0x00000801, 1, limit)
    if n_labels != n:
        raise DataError(f"{data_dir}: {split} has {n} images but {n_labels} labels")
    if any(label > 9 for label in labels):
        raise DataError(f"{data_dir}: {labels_name} has a label outside 0..9")
    return images, labels, n, shape[1], shape[2]


def parser(description):
    """The options both reference scripts take."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--model", required=True, choices=["simple", "two-conv", "complex"])
    p.add_argument("--threads", type=int, default=2, help="compute threads (default 2)")
    p.add_argument("--warmup-samples", type=int, default=9600, help="examples trained before timing (default 9600: 300 steps of 32)")
    p.add_argument("--samples", type=int, default=48000, help="examples trained while timed (default 48000: 1 500 steps of 32)")
    p.add_argument("--eval-samples", type=int, default=10000, help="test examples evaluated while timed (default 10000)")
    p.add_argument("--batch", type=int, default=32, help="training mini-batch (default 32)")
    p.add_argument("--eval-batch", type=int, default=256, help="evaluation batch (default 256, as cnnvar)")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help=f"directory with the IDX files (default {DEFAULT_DATA_DIR})")
    return p


def check_args(args):
    """Exits with a message when a count is out of range."""
    for name in ("threads", "samples", "eval_samples", "batch", "eval_batch"):
        if getattr(args, name) < 1:
            sys.exit(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup_samples < 0:
        sys.exit("--warmup-samples must be at least 0")


def result(framework, version, args, n_test, train_seconds, eval_seconds, **measured):
    """The result line's fields every framework shares, plus `measured` (accuracies,
    parameter count)."""
    return {
        "framework": framework,
        "version": version,
        "model": args.model,
        "threads": args.threads,
        "train_samples_per_sec": args.samples / train_seconds,
        "eval_samples_per_sec": n_test / eval_seconds,
        "train_samples": args.samples,
        "eval_samples": n_test,
        "warmup_samples": args.warmup_samples,
        "batch": args.batch,
        "eval_batch": args.eval_batch,
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
        **measured,
    }


def emit(result):
    """Prints the one JSON line the bench driver reads."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
