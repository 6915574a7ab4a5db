"""Keras/TensorFlow reference for `cargo xtask bench`: trains one of the write-up's
models on Fashion-MNIST and prints one JSON line with its throughput.

The models are exactly cnnvar's `simple`, `two-conv` and `complex` (crates/models):
3×3 valid convolutions with ReLU, 2×2 max pooling, a softmax output, Adam(1e-3) with
Keras's defaults, sparse categorical cross-entropy. Training is `model.fit` with
batch_size 32 and epochs=1, as the write-up's code does it: one warm-up `fit` on the
first --warmup-samples examples (graph tracing happens there), then one timed `fit` on
the first --samples examples. Evaluation (`model.evaluate`, batch --eval-batch) is
warmed up on one batch and timed separately on the first --eval-samples test examples.

By hand (tensorflow-cpu installed, e.g. in ~/.cache/cnnvar/venv-bench):

    ~/.cache/cnnvar/venv-bench/bin/python bench/keras_bench.py --model simple --threads 2 \
        --warmup-samples 9600 --samples 48000 --eval-samples 10000

Prints {"framework": "keras", "version": ..., "model": ..., "threads": ...,
"train_samples_per_sec": ..., "eval_samples_per_sec": ..., ...} on stdout.
"""

import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import fmnist  # noqa: E402


def build(keras, model):
    """The write-up's model `model` for 28×28×1 inputs."""
    from keras import layers

    conv = lambda filters: layers.Conv2D(filters, (3, 3), activation="relu")  # noqa: E731
    if model == "simple":
        body = [conv(32), layers.MaxPooling2D()]
        hidden = []
    elif model == "two-conv":
        body = [conv(32), layers.MaxPooling2D(), conv(64), layers.MaxPooling2D()]
        hidden = []
    else:
        body = [conv(64), layers.MaxPooling2D(), conv(128), layers.MaxPooling2D(), conv(256)]
        hidden = [layers.Dense(512, activation="relu")]
    net = keras.Sequential(
        [keras.Input((28, 28, 1)), *body, layers.Flatten(), *hidden, layers.Dense(10, activation="softmax")]
    )
    net.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return net


def main():
    args = fmnist.parser(__doc__.splitlines()[0]).parse_args()
    fmnist.check_args(args)
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras

    try:
        train_n = max(args.samples, args.warmup_samples)
        images, labels, n, rows, cols = fmnist.load(args.data_dir, "train", train_n)
        test_images, test_labels, n_test, _, _ = fmnist.load(args.data_dir, "test", args.eval_samples)
    except fmnist.DataError as e:
        sys.exit(f"keras_bench: {e}")
    if n < train_n or n_test < args.eval_samples:
        sys.exit(f"keras_bench: the data set has {n} training and {n_test} test examples, fewer than asked")
    to_x = lambda raw, count: (np.frombuffer(raw, np.uint8).reshape(count, rows, cols, 1).astype("float32") / 255.0)  # noqa: E731
    x, y = to_x(images, n), np.frombuffer(labels, np.uint8).astype("int64")
    x_test, y_test = to_x(test_images, n_test), np.frombuffer(test_labels, np.uint8).astype("int64")

    keras.utils.set_random_seed(0)
    net = build(keras, args.model)
    if args.warmup_samples > 0:
        w = args.warmup_samples
        net.fit(x[:w], y[:w], batch_size=args.batch, epochs=1, verbose=0)
    started = time.perf_counter()
    history = net.fit(x[: args.samples], y[: args.samples], batch_size=args.batch, epochs=1, verbose=0)
    train_seconds = time.perf_counter() - started

    net.evaluate(x_test[: args.eval_batch], y_test[: args.eval_batch], batch_size=args.eval_batch, verbose=0)
    started = time.perf_counter()
    loss, accuracy = net.evaluate(x_test, y_test, batch_size=args.eval_batch, verbose=0)
    eval_seconds = time.perf_counter() - started

    fmnist.emit(
        fmnist.result(
            "keras",
            f"keras {keras.__version__}, tensorflow {tf.__version__}",
            args,
            n_test,
            train_seconds,
            eval_seconds,
            train_accuracy=float(history.history["accuracy"][-1]),
            eval_accuracy=float(accuracy),
            params=int(net.count_params()),
        )
    )


if __name__ == "__main__":
    main()
