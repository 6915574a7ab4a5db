"""The write-up's way of running a study, for `cargo xtask bench --study`: every run of a
cnnvar study directory, one after another in one Keras/TensorFlow process, each as
the write-up's code does it: build the model, `model.fit` on the training examples
for the run's epochs, then `model.evaluate` once on the test set. (No
`validation_data`: the write-up's code does not evaluate during training, so neither
does this side of the comparison.)

It reads the `spec.json` of every run directory under --runs (written by
`cnnvar sweep`), so both sides do the same runs: the same model, number of training
examples, optimizer, learning rate, batch size and epochs. The training examples
are the first n of the file (which n examples does not change the cost). Only what
the write-up's code can express is accepted: the models simple, two-conv and
complex, and the optimizers adam, sgd and rmsprop; anything else is an error.

By hand:

    ~/.cache/cnnvar/venv-bench/bin/python bench/keras_study.py --runs runs/seed-s2-e1 --threads 2

Prints {"framework": "keras", "runs": ..., "seconds": ..., ...} on stdout.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import fmnist  # noqa: E402
from keras_bench import build  # noqa: E402

MODELS = ("simple", "two-conv", "complex")
OPTIMIZERS = ("adam", "sgd", "rmsprop")


def specs(runs_dir):
    """(run id, spec) of every run directory under `runs_dir`, sorted by id."""
    found = []
    for name in sorted(os.listdir(runs_dir)):
        path = os.path.join(runs_dir, name, "spec.json")
        if not os.path.isfile(path):
            continue
        try:
            with open(path) as f:
                spec = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit(f"keras_study: {path}: cannot read: {e}")
        for key, allowed in (("model", MODELS), ("optimizer", OPTIMIZERS)):
            if spec.get(key, "adam" if key == "optimizer" else None) not in allowed:
                sys.exit(f"keras_study: {path}: {key} {spec.get(key)!r} is not one of {', '.join(allowed)}")
        if spec.get("dataset", "fashion-mnist") != "fashion-mnist":
            sys.exit(f"keras_study: {path}: dataset {spec.get('dataset')!r}: only fashion-mnist is supported")
        found.append((name, spec))
    if not found:
        sys.exit(f"keras_study: {runs_dir}: no run directory with a spec.json")
    return found


def optimizer(keras, spec):
    """The run's optimizer with Keras's defaults, at the run's learning rate."""
    lr = float(spec.get("lr", 1e-3))
    name = spec.get("optimizer", "adam")
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=lr)
    return keras.optimizers.Adam(learning_rate=lr)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", required=True, help="a study directory written by `cnnvar sweep`")
    p.add_argument("--threads", type=int, default=2, help="compute threads (default 2)")
    p.add_argument("--data-dir", default=fmnist.DEFAULT_DATA_DIR, help="directory with the IDX files")
    args = p.parse_args()
    if args.threads < 1:
        sys.exit("--threads must be at least 1")
    runs = specs(args.runs)

    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras

    try:
        images, labels, n, rows, cols = fmnist.load(args.data_dir, "train", 60_000)
        test_images, test_labels, n_test, _, _ = fmnist.load(args.data_dir, "test", 10_000)
    except fmnist.DataError as e:
        sys.exit(f"keras_study: {e}")
    to_x = lambda raw, count: (np.frombuffer(raw, np.uint8).reshape(count, rows, cols, 1).astype("float32") / 255.0)  # noqa: E731
    x, y = to_x(images, n), np.frombuffer(labels, np.uint8).astype("int64")
    x_test, y_test = to_x(test_images, n_test), np.frombuffer(test_labels, np.uint8).astype("int64")

    started = time.perf_counter()
    accuracies = []
    examples = 0
    for run_id, spec in runs:
        keras.utils.set_random_seed(int(spec.get("init_seed", 0)) % (2**31))
        net = build(keras, spec["model"])
        net.compile(optimizer=optimizer(keras, spec), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        count = min(int(spec.get("train_size") or n), n)
        epochs = int(spec.get("epochs", 10))
        net.fit(
            x[:count],
            y[:count],
            batch_size=int(spec.get("batch_size", 32)),
            epochs=epochs,
            verbose=0,
        )
        _, accuracy = net.evaluate(x_test, y_test, verbose=0)
        accuracies.append(float(accuracy))
        examples += count * epochs
        print(f"keras_study: {run_id} {spec['model']} n={count} accuracy {accuracy:.4f}", file=sys.stderr)
    seconds = time.perf_counter() - started
    fmnist.emit(
        {
            "framework": "keras",
            "version": f"keras {keras.__version__}, tensorflow {tf.__version__}",
            "threads": args.threads,
            "runs": len(runs),
            "seconds": seconds,
            "trained_examples": examples,
            "mean_test_accuracy": sum(accuracies) / len(accuracies),
        }
    )


if __name__ == "__main__":
    main()
