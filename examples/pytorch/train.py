"""A PyTorch training script that cnnvar can study: the write-up's CNNs on Fashion-MNIST.

It honours cnnvar's three seeds, each driving one thing:

- init seed: `torch.manual_seed` before the model is built (the weights);
- order seed: a `torch.Generator` that shuffles the training examples every epoch;
- subset seed: a `torch.Generator` that draws `train_size` examples, the same number
  from each class (with train_size 0, all of them, and the seed changes nothing).

`torch.use_deterministic_algorithms(True)` makes the same seeds give the same model.
Only PyTorch and the standard library are needed (no NumPy, no torchvision).

Parameters (`--name=value`, passed by cnnvar's `${args}`): model (simple, two-conv,
complex), train_size, test_size (0: all 10 000), lr, epochs, batch_size, data_dir;
and cnnvar's own: init_seed, order_seed, subset_seed, threads, output_dir.

    PATH=/path/to/venv-with-torch/bin:$PATH cnnvar sweep examples/pytorch/study.toml
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

import torch
from torch import nn


def args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["simple", "two-conv", "complex"], default="simple")
    p.add_argument("--train_size", type=int, default=0, help="0: all 60 000")
    p.add_argument("--test_size", type=int, default=0, help="0: all 10 000")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--data_dir", default=os.environ.get("CNNVAR_DATA_DIR", "/usr/share/datasets/fashion-mnist"))
    for seed in ("init_seed", "order_seed", "subset_seed"):
        p.add_argument(f"--{seed}", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--output_dir", default=".")
    return p.parse_args()


def idx(data_dir, name):
    """An IDX file (NAME.gz or NAME) of data_dir as a uint8 tensor of its shape."""
    for candidate, opener in ((name + ".gz", gzip.open), (name, open)):
        path = os.path.join(data_dir, candidate)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                data = f.read()
            dims = data[3]
            shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
            return torch.frombuffer(bytearray(data[4 + 4 * dims :]), dtype=torch.uint8).reshape(shape)
    sys.exit(f"train.py: {data_dir}: neither {name}.gz nor {name}: install Debian's dataset-fashion-mnist")


def build(model):
    """The write-up's models (as Keras builds them): 3x3 valid convolutions with ReLU,
    2x2 max pooling, a dense softmax layer (the softmax is in the loss)."""
    if model == "simple":
        body, flat, hidden = [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2)], 32 * 13 * 13, []
    elif model == "two-conv":
        body = [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2)]
        flat, hidden = 64 * 5 * 5, []
    else:
        body = [nn.Conv2d(1, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(64, 128, 3), nn.ReLU(),
                nn.MaxPool2d(2), nn.Conv2d(128, 256, 3), nn.ReLU()]
        flat, hidden = 256 * 3 * 3, [nn.Linear(256 * 3 * 3, 512), nn.ReLU()]
    last = 512 if hidden else flat
    return nn.Sequential(*body, nn.Flatten(), *hidden, nn.Linear(last, 10))


def stratified(labels, n, generator):
    """Indices of n examples, n // 10 (or one more) from each class, drawn by generator."""
    chosen = []
    for c in range(10):
        of_c = torch.nonzero(labels == c).flatten()
        take = n // 10 + (1 if c < n % 10 else 0)
        chosen.append(of_c[torch.randperm(len(of_c), generator=generator)[:take]])
    return torch.sort(torch.cat(chosen)).values


def main():
    a = args()
    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True)
    x, y = idx(a.data_dir, "train-images-idx3-ubyte"), idx(a.data_dir, "train-labels-idx1-ubyte").long()
    x_test, y_test = idx(a.data_dir, "t10k-images-idx3-ubyte"), idx(a.data_dir, "t10k-labels-idx1-ubyte").long()
    if a.train_size:
        chosen = stratified(y, a.train_size, torch.Generator().manual_seed(a.subset_seed))
        x, y = x[chosen], y[chosen]
    if a.test_size:
        x_test, y_test = x_test[: a.test_size], y_test[: a.test_size]
    scale = lambda images: images.reshape(-1, 1, 28, 28).float() / 255.0  # noqa: E731
    x, x_test = scale(x), scale(x_test)

    torch.manual_seed(a.init_seed)
    net = build(a.model)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(a.order_seed)
    curve = []
    for epoch in range(1, a.epochs + 1):
        started, total, right = time.time(), 0.0, 0
        net.train()
        perm = torch.randperm(len(x), generator=order)
        for i in range(0, len(x), a.batch_size):
            batch = perm[i : i + a.batch_size]
            opt.zero_grad()
            out = net(x[batch])
            loss = loss_fn(out, y[batch])
            loss.backward()
            opt.step()
            total += loss.item() * len(batch)
            right += (out.argmax(1) == y[batch]).sum().item()
        curve.append({"epoch": epoch, "train_loss": total / len(x), "train_accuracy": right / len(x),
                      "seconds": time.time() - started})
        print(f"epoch {epoch}: loss {total / len(x):.4f}", flush=True)

    net.eval()
    with torch.no_grad():
        predicted = torch.cat([net(x_test[i : i + 1000]).argmax(1) for i in range(0, len(x_test), 1000)])
    out = a.output_dir
    with open(os.path.join(out, "predictions.csv"), "w") as f:
        f.write("label,predicted\n")
        f.writelines(f"{t},{p}\n" for t, p in zip(y_test.tolist(), predicted.tolist()))
    result = {
        "test_accuracy": (predicted == y_test).float().mean().item(),
        "seeds": {"init": a.init_seed, "order": a.order_seed, "subset": a.subset_seed},
        "curve": curve,
        "train_examples": len(x),
        "framework": f"torch {torch.__version__}",
    }
    with open(os.path.join(out, "result.json.tmp"), "w") as f:
        json.dump(result, f)
    os.replace(os.path.join(out, "result.json.tmp"), os.path.join(out, "result.json"))


if __name__ == "__main__":
    main()
