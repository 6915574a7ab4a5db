"""The machine's ceiling for `cargo xtask bench`: how fast LibTorch multiplies large
float32 matrices here, and how much arithmetic training one example costs each model.

With both, a throughput becomes a fraction of what the machine can do at all: examples/s
× FLOP per example / sgemm FLOP/s. A goal such as "1.5× Keras" can then be checked
against the ceiling before anyone tries to reach it.

- sgemm: square float32 matrix products (1024 and 2048) on --threads threads, each
  warmed up, then repeated for at least --seconds; the best size's rate is printed. A
  training step of these small models runs many small, thin products, convolutions,
  pooling and an optimizer step, so it cannot reach this rate: it is a ceiling.
- FLOP per example: counted by PyTorch's own `torch.utils.flop_counter` (convolutions
  and matrix products, 2 per multiply-add) on the bench's models (`torch_bench.build`,
  the same layers as cnnvar's), forward and backward at the bench's batch, divided by
  the batch; evaluation counts the forward pass only.

By hand: OMP_WAIT_POLICY=PASSIVE ~/.cache/cnnvar/venv-torch-2.9.0/bin/python \
    bench/roofline.py --threads 2

Prints {"framework": "roofline", "version": ..., "threads": ..., "sgemm_gflops": ...,
"train_flop_per_example": {model: ...}, "eval_flop_per_example": {model: ...}}.
"""

import argparse
import json
import time

import torch_bench

MODELS = ("simple", "two-conv", "complex")


def sgemm_gflops(torch, n, seconds):
    """Steady-state GFLOP/s of n×n float32 products."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    reps, started = 0, time.perf_counter()
    while True:
        a @ b
        reps += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds and reps >= 3:
            return 2 * n**3 * reps / elapsed / 1e9


def flop_per_example(torch, model, batch, train):
    """FLOP (2 per multiply-add) of one example of `model`, training or evaluating."""
    from torch.utils.flop_counter import FlopCounterMode

    net = torch_bench.build(torch.nn, model)
    x = torch.zeros(batch, 1, 28, 28)
    y = torch.zeros(batch, dtype=torch.long)
    counter = FlopCounterMode(display=False)
    with counter:
        if train:
            torch.nn.functional.cross_entropy(net(x), y).backward()
        else:
            with torch.inference_mode():
                net(x)
    return counter.get_total_flops() / batch


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seconds", type=float, default=3.0, help="timed seconds per matrix size")
    args = p.parse_args()
    if args.threads < 1 or args.batch < 1 or not args.seconds > 0:
        p.error("--threads and --batch must be at least 1, --seconds above 0")
    import torch

    torch.set_num_threads(args.threads)
    peak = max(sgemm_gflops(torch, n, args.seconds) for n in (1024, 2048))
    print(
        json.dumps(
            {
                "framework": "roofline",
                "version": f"torch {torch.__version__}",
                "threads": args.threads,
                "batch": args.batch,
                "sgemm_gflops": peak,
                "train_flop_per_example": {m: flop_per_example(torch, m, args.batch, True) for m in MODELS},
                "eval_flop_per_example": {m: flop_per_example(torch, m, args.batch, False) for m in MODELS},
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
