"""The write-up's Keras code, made to honour cnnvar's three seeds.

The write-up trains three small CNNs on MNIST/CIFAR-10 with `model.fit(x, y,
epochs=10, batch_size=32)` and Adam, once per arm. This is the same code on
Fashion-MNIST, with its randomness split the way cnnvar studies it:

- init seed: `keras.utils.set_random_seed` before the model is built (the weights);
- order seed: the order of the training examples in every epoch (a NumPy
  permutation per epoch, then `fit(..., shuffle=False)`; Keras's own shuffle would
  follow the init seed);
- subset seed: which training examples a `train_size` draws (`subset = "stratified"`:
  the same number from each class; `"first"`, the write-up's `x_train[:n]`, draws
  nothing and ignores it).

TensorFlow's op determinism is switched on, so the same seeds give the same model.

Parameters (`--name=value`, passed by cnnvar's `${args}`): model (simple, two-conv,
complex), train_size (0: all 60 000), subset, lr, epochs, batch_size, data_dir; and
cnnvar's own: init_seed, order_seed, subset_seed, threads, output_dir.

    PATH=/path/to/venv-with-tensorflow/bin:$PATH cnnvar sweep examples/keras/study.toml
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["simple", "two-conv", "complex"], default="simple")
    p.add_argument("--train_size", type=int, default=0, help="0: all training examples")
    p.add_argument("--subset", choices=["first", "stratified"], default="first")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--data_dir", default=os.environ.get("CNNVAR_DATA_DIR", "/usr/share/datasets/fashion-mnist"))
    for seed in ("init_seed", "order_seed", "subset_seed"):
        p.add_argument(f"--{seed}", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--output_dir", default=".")
    return p.parse_args()


def idx(np, data_dir, name):
    """An IDX file (NAME.gz or NAME) of data_dir as a NumPy array."""
    for candidate, opener in ((name + ".gz", gzip.open), (name, open)):
        path = os.path.join(data_dir, candidate)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                data = f.read()
            dims = data[3]
            shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
            return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)
    sys.exit(f"train.py: {data_dir}: neither {name}.gz nor {name}: install Debian's dataset-fashion-mnist")


def build(keras, model, lr):
    """The write-up's models: 3x3 valid convolutions with ReLU, 2x2 max pooling, softmax."""
    from keras import layers

    conv = lambda filters: layers.Conv2D(filters, (3, 3), activation="relu")  # noqa: E731
    if model == "simple":
        body, hidden = [conv(32), layers.MaxPooling2D()], []
    elif model == "two-conv":
        body, hidden = [conv(32), layers.MaxPooling2D(), conv(64), layers.MaxPooling2D()], []
    else:
        body = [conv(64), layers.MaxPooling2D(), conv(128), layers.MaxPooling2D(), conv(256)]
        hidden = [layers.Dense(512, activation="relu")]
    net = keras.Sequential([keras.Input((28, 28, 1)), *body, layers.Flatten(), *hidden,
                            layers.Dense(10, activation="softmax")])
    net.compile(optimizer=keras.optimizers.Adam(learning_rate=lr),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return net


def main():
    a = args()
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()
    import keras

    x = idx(np, a.data_dir, "train-images-idx3-ubyte")
    y = idx(np, a.data_dir, "train-labels-idx1-ubyte")
    x_test = idx(np, a.data_dir, "t10k-images-idx3-ubyte")
    y_test = idx(np, a.data_dir, "t10k-labels-idx1-ubyte")
    n = a.train_size or len(x)
    if a.subset == "first":
        chosen = np.arange(n)
    else:
        rng = np.random.default_rng(a.subset_seed)
        per_class = [rng.permutation(np.flatnonzero(y == c))[: n // 10 + (c < n % 10)] for c in range(10)]
        chosen = np.sort(np.concatenate(per_class))
    scale = lambda images: images.reshape(-1, 28, 28, 1).astype("float32") / 255.0  # noqa: E731
    x, y, x_test = scale(x[chosen]), y[chosen].astype("int64"), scale(x_test)

    keras.utils.set_random_seed(a.init_seed)
    net = build(keras, a.model, a.lr)
    order = np.random.default_rng(a.order_seed)
    curve = []
    for epoch in range(1, a.epochs + 1):
        started = time.time()
        perm = order.permutation(len(x))
        h = net.fit(x[perm], y[perm], batch_size=a.batch_size, epochs=1, shuffle=False, verbose=0)
        loss, acc = float(h.history["loss"][0]), float(h.history["accuracy"][0])
        curve.append({"epoch": epoch, "train_loss": loss, "train_accuracy": acc,
                      "seconds": time.time() - started})
        print(f"epoch {epoch}: loss {loss:.4f} accuracy {acc:.4f}", flush=True)

    predicted = net.predict(x_test, batch_size=256, verbose=0).argmax(axis=1)
    out = a.output_dir
    np.savetxt(os.path.join(out, "predictions.csv"), np.c_[y_test, predicted], fmt="%d",
               delimiter=",", header="label,predicted", comments="")
    result = {
        "test_accuracy": float((predicted == y_test).mean()),
        "seeds": {"init": a.init_seed, "order": a.order_seed, "subset": a.subset_seed},
        "curve": curve,
        "train_examples": int(len(x)),
        "framework": f"keras {keras.__version__}, tensorflow {tf.__version__}",
    }
    with open(os.path.join(out, "result.json.tmp"), "w") as f:
        json.dump(result, f)
    os.replace(os.path.join(out, "result.json.tmp"), os.path.join(out, "result.json"))


if __name__ == "__main__":
    main()
