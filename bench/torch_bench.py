"""PyTorch reference for `cargo xtask bench`: trains one of the write-up's models on
Fashion-MNIST and prints one JSON line with its throughput.

The models are exactly cnnvar's `simple`, `two-conv` and `complex` (crates/models):
3×3 valid convolutions with ReLU, 2×2 max pooling, dense layers, logits into
cross-entropy (the same as Keras's softmax with sparse categorical cross-entropy),
Glorot-uniform weights and zero biases, Adam(1e-3, eps 1e-7) as Keras has it. Training
is a plain loop over shuffled mini-batches of --batch: one warm-up pass over the first
--warmup-samples examples, then one timed pass over the first --samples examples.
Evaluation (inference mode, batches of --eval-batch) is warmed up on one batch and
timed separately on the first --eval-samples test examples.

Run it with OpenMP's passive wait policy: libtorch's default spin-waiting makes it many
times slower on a busy machine with few cores. By hand (torch 2.9.0 installed, e.g. in
~/.cache/cnnvar/venv-torch-2.9.0; NumPy is not needed):

    OMP_WAIT_POLICY=PASSIVE ~/.cache/cnnvar/venv-torch-2.9.0/bin/python bench/torch_bench.py \
        --model simple --threads 2 --warmup-samples 9600 --samples 48000 --eval-samples 10000

Prints {"framework": "pytorch", "version": ..., "model": ..., "threads": ...,
"train_samples_per_sec": ..., "eval_samples_per_sec": ..., ...} on stdout.
"""

import sys
import time

import fmnist


def build(nn, model):
    """The write-up's model `model` for 1×28×28 inputs, returning logits."""
    if model == "simple":
        layers = [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 13 * 13, 10)]
    elif model == "two-conv":
        layers = [
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 5 * 5, 10),
        ]  # fmt: skip
    else:
        layers = [
            nn.Conv2d(1, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(128, 256, 3), nn.ReLU(),
            nn.Flatten(), nn.Linear(256 * 3 * 3, 512), nn.ReLU(), nn.Linear(512, 10),
        ]  # fmt: skip
    net = nn.Sequential(*layers)
    for layer in net:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return net


def train_pass(torch, net, opt, x, y, batch, generator):
    """One pass over (x, y) in a shuffled order; returns the training accuracy."""
    f = torch.nn.functional
    net.train()
    order = torch.randperm(len(x), generator=generator)
    correct = 0
    loss_sum = 0.0
    for start in range(0, len(x), batch):
        idx = order[start : start + batch]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        logits = net(xb)
        loss = f.cross_entropy(logits, yb)
        loss.backward()
        opt.step()
        loss_sum += loss.item() * len(idx)
        correct += int((logits.argmax(1) == yb).sum().item())
    return correct / max(len(x), 1)


def evaluate(torch, net, x, y, batch):
    """Accuracy on (x, y) in inference mode."""
    f = torch.nn.functional
    net.eval()
    correct = 0
    loss_sum = 0.0
    with torch.inference_mode():
        for start in range(0, len(x), batch):
            xb, yb = x[start : start + batch], y[start : start + batch]
            logits = net(xb)
            loss_sum += float(f.cross_entropy(logits, yb, reduction="sum"))
            correct += int((logits.argmax(1) == yb).sum().item())
    return correct / max(len(x), 1)


def main():
    args = fmnist.parser(__doc__.splitlines()[0]).parse_args()
    fmnist.check_args(args)
    import torch

    torch.set_num_threads(args.threads)
    try:
        train_n = max(args.samples, args.warmup_samples)
        images, labels, n, rows, cols = fmnist.load(args.data_dir, "train", train_n)
        test_images, test_labels, n_test, _, _ = fmnist.load(args.data_dir, "test", args.eval_samples)
    except fmnist.DataError as e:
        sys.exit(f"torch_bench: {e}")
    if n < train_n or n_test < args.eval_samples:
        sys.exit(f"torch_bench: the data set has {n} training and {n_test} test examples, fewer than asked")

    def to_x(raw, count):
        return torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(count, 1, rows, cols).float() / 255.0

    def to_y(raw):
        return torch.frombuffer(bytearray(raw), dtype=torch.uint8).long()

    x, y = to_x(images, n), to_y(labels)
    x_test, y_test = to_x(test_images, n_test), to_y(test_labels)

    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    net = build(torch.nn, args.model)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    if args.warmup_samples > 0:
        w = args.warmup_samples
        train_pass(torch, net, opt, x[:w], y[:w], args.batch, generator)
    started = time.perf_counter()
    train_accuracy = train_pass(torch, net, opt, x[: args.samples], y[: args.samples], args.batch, generator)
    train_seconds = time.perf_counter() - started

    evaluate(torch, net, x_test[: args.eval_batch], y_test[: args.eval_batch], args.eval_batch)
    started = time.perf_counter()
    eval_accuracy = evaluate(torch, net, x_test, y_test, args.eval_batch)
    eval_seconds = time.perf_counter() - started

    fmnist.emit(
        fmnist.result(
            "pytorch",
            f"torch {torch.__version__}",
            args,
            n_test,
            train_seconds,
            eval_seconds,
            train_accuracy=train_accuracy,
            eval_accuracy=eval_accuracy,
            params=sum(p.numel() for p in net.parameters()),
        )
    )


if __name__ == "__main__":
    main()
