"""The smallest training script cnnvar can study: Python's standard library only.

A multiclass perceptron on 2x2-pooled Fashion-MNIST (or any IDX data set) that honours
cnnvar's three seeds: the subset seed draws the training examples, the init seed the
initial weights, the order seed the order they are visited in. It reads its run from
the file $CNNVAR_RUN_JSON names, and writes the two files cnnvar reads:

    predictions.csv   label,predicted (one row per test example, in test-set order)
    result.json       written last, by a rename: test_accuracy, the seeds, the curve

Its parameters (a study sets any of them): data_dir, train_size, test_size, epochs,
lr, and `mode`, which makes the script break the contract on purpose, for cnnvar's
integration tests: ok (the default), crash, hang, no-result, no-predictions, partial,
short, reordered, wrong-labels, wrong-accuracy, wrong-seeds, ignore-seeds.

    cnnvar sweep examples/script/study.toml
"""

import gzip
import json
import os
import random
import struct
import sys
import time


def read_idx(data_dir, name, limit):
    """(rows, side) of an IDX file NAME(.gz) in data_dir, at most `limit` records."""
    for candidate, opener in ((name + ".gz", gzip.open), (name, open)):
        path = os.path.join(data_dir, candidate)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                data = f.read()
            break
    else:
        sys.exit(f"train.py: {data_dir}: neither {name}.gz nor {name} exists")
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x801:
        return list(data[8 : 8 + min(count, limit)]), 0
    rows, cols = struct.unpack(">II", data[8:16])
    n, size = min(count, limit), rows * cols
    return [data[16 + i * size : 16 + (i + 1) * size] for i in range(n)], rows


def pooled(image, side):
    """2x2 average pooling, scaled to [0, 1], with a bias input of 1 at the end."""
    half = side // 2
    out = [
        (image[2 * r * side + 2 * c] + image[2 * r * side + 2 * c + 1]
         + image[(2 * r + 1) * side + 2 * c] + image[(2 * r + 1) * side + 2 * c + 1]) / 1020.0
        for r in range(half)
        for c in range(half)
    ]
    return out + [1.0]


def load(data_dir, split, limit):
    """Raw images, their side and labels of a split."""
    prefix = "train" if split == "train" else "t10k"
    images, side = read_idx(data_dir, f"{prefix}-images-idx3-ubyte", limit)
    labels, _ = read_idx(data_dir, f"{prefix}-labels-idx1-ubyte", limit)
    return images, side, labels


def predict(w, x):
    scores = [sum(wi * xi for wi, xi in zip(row, x)) for row in w]
    return max(range(len(scores)), key=scores.__getitem__)


def main():
    with open(os.environ["CNNVAR_RUN_JSON"]) as f:
        run = json.load(f)
    p = run["params"]
    mode = p.get("mode", "ok")
    out = run["output_dir"]
    given = {"init": run["init_seed"], "order": run["order_seed"], "subset": run["subset_seed"]}
    # `used` drives training; `reported` is what result.json says was used.
    used = {"init": 1, "order": 2, "subset": 3} if mode == "ignore-seeds" else given
    reported = {k: v + 1 for k, v in given.items()} if mode == "wrong-seeds" else given
    if mode == "crash":
        sys.exit("train.py: crashing on purpose (mode = crash)")
    if mode == "hang":
        time.sleep(3600)

    data_dir = p.get("data_dir", "/usr/share/datasets/fashion-mnist")
    images, side, y_all = load(data_dir, "train", 60000)
    test_images, _, y_test = load(data_dir, "test", int(p.get("test_size", 1000)))
    subset = random.Random(used["subset"]).sample(range(len(images)), int(p.get("train_size", 500)))
    x, y = [pooled(images[i], side) for i in subset], [y_all[i] for i in subset]
    x_test = [pooled(im, side) for im in test_images]
    init = random.Random(used["init"])
    w = [[init.gauss(0.0, 0.01) for _ in x[0]] for _ in range(10)]
    order = random.Random(used["order"])
    lr = float(p.get("lr", 0.1))
    curve = []
    for epoch in range(1, int(p.get("epochs", 2)) + 1):
        started = time.time()
        visit = list(range(len(x)))
        order.shuffle(visit)
        mistakes = 0
        for i in visit:
            guess = predict(w, x[i])
            if guess != y[i]:
                mistakes += 1
                for j, xj in enumerate(x[i]):
                    w[y[i]][j] += lr * xj
                    w[guess][j] -= lr * xj
        curve.append({"epoch": epoch, "train_loss": mistakes / len(x),
                      "train_accuracy": 1 - mistakes / len(x), "seconds": time.time() - started})

    pred = [predict(w, xi) for xi in x_test]
    labels = list(y_test)
    if mode == "reordered":
        labels, pred = labels[::-1], pred[::-1]
    if mode == "short":
        labels, pred = labels[:-1], pred[:-1]
    if mode == "wrong-labels":
        labels = [(label + 1) % 10 for label in labels]
    accuracy = sum(a == b for a, b in zip(labels, pred)) / len(labels)
    if mode != "no-predictions":
        rows = labels if mode != "partial" else labels[: len(labels) // 2]
        with open(os.path.join(out, "predictions.csv"), "w") as f:
            f.write("label,predicted\n")
            f.writelines(f"{a},{b}\n" for a, b in zip(rows, pred))
            if mode == "partial":
                f.write("7,")
    if mode == "wrong-accuracy":
        accuracy = min(1.0, accuracy + 0.05)
    if mode == "no-result":
        return
    result = {"test_accuracy": accuracy, "seeds": reported, "curve": curve,
              "train_examples": len(x), "framework": "python " + sys.version.split()[0]}
    with open(os.path.join(out, "result.json.tmp"), "w") as f:
        json.dump(result, f)
    os.replace(os.path.join(out, "result.json.tmp"), os.path.join(out, "result.json"))


if __name__ == "__main__":
    main()
