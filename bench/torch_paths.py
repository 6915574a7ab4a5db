"""LibTorch's other CPU paths, side by side: does channels-last memory or torch.compile
(Inductor) train the bench's models faster than PyTorch's plain eager loop?

burn-tch calls LibTorch's eager kernels in NCHW layout, as the plain loop does; if one of
these paths were much faster, it would show where burn-tch could gain. Each path trains
one model in its own process: --warmup steps, then --steps timed steps of batch 32 (Adam
1e-3) on random inputs of Fashion-MNIST's shape (the arithmetic does not depend on the
pixels). By hand, as bench/results/README.md reports it:

    for m in two-conv complex; do for p in plain channels-last compile; do
      OMP_WAIT_POLICY=PASSIVE ~/.cache/cnnvar/venv-torch-2.9.0/bin/python \\
          bench/torch_paths.py --path $p --model $m --threads 2
    done; done

Prints {"path": ..., "model": ..., "threads": ..., "train_samples_per_sec": ...}.
torch.compile needs a C++ compiler on PATH.
"""

import argparse
import json
import time

import torch_bench

PATHS = ("plain", "channels-last", "compile")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--path", choices=PATHS, required=True)
    p.add_argument("--model", choices=("simple", "two-conv", "complex"), required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--steps", type=int, default=900)
    args = p.parse_args()
    if min(args.threads, args.batch, args.steps) < 1 or args.warmup < 0:
        p.error("--threads, --batch and --steps must be at least 1, --warmup at least 0")
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = torch_bench.build(torch.nn, args.model)
    pool = 300 * args.batch
    x = torch.rand(pool, 1, 28, 28)
    y = torch.randint(0, 10, (pool,))
    channels_last = args.path == "channels-last"
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(xb), yb)
        loss.backward()
        opt.step()
        return loss

    if args.path == "compile":
        step = torch.compile(step)

    def run(steps):
        for s in range(steps):
            i = (s * args.batch) % pool
            step(x[i : i + args.batch], y[i : i + args.batch]).item()

    run(args.warmup)
    started = time.perf_counter()
    run(args.steps)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "path": args.path,
                "model": args.model,
                "threads": args.threads,
                "version": f"torch {torch.__version__}",
                "train_samples_per_sec": args.steps * args.batch / seconds,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
