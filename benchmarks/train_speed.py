"""Training throughput (images/s) of each trainable salient architecture, on CPU and on a GPU if present.

One measured step is what the trainer does: forward (with deep supervision), the loss, backward, AdamW.
Inputs are random tensors, so data loading is not part of the number (see ``--help``).

    .venv/bin/python benchmarks/train_speed.py --imgsz 320 --batch 8 --steps 5
    .venv/bin/python benchmarks/train_speed.py --device cuda --amp bf16 --batch 32 --steps 30
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from cutkit.nets import build_net
from cutkit.train.losses import SalientLoss, parse_loss
from cutkit.train.salient import TRAINABLE, maps_of


def measure(arch: str, *, device: torch.device, imgsz: int, batch: int, steps: int, amp: str) -> float:
    """Images per second over ``steps`` training steps after two warm-up steps."""
    torch.manual_seed(0)
    net = build_net(arch, **TRAINABLE[arch]).to(device, memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    loss_fn = SalientLoss(terms=parse_loss("bce+iou"), side_weights=0.5)
    x = torch.randn(batch, 3, imgsz, imgsz, device=device).contiguous(memory_format=torch.channels_last)
    y = (torch.rand(batch, 1, imgsz, imgsz, device=device) > 0.5).float()
    dtype = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]
    scaler = torch.amp.GradScaler(device.type, enabled=dtype is torch.float16)

    def step() -> None:
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = loss_fn(maps_of(net(x)), y)["loss"]
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)

    for _ in range(2):
        step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return batch * steps / (time.perf_counter() - start)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archs", nargs="+", default=list(TRAINABLE))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--amp", default="off", choices=("off", "bf16", "fp16"))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    machine = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    results = {
        arch: measure(arch, device=device, imgsz=args.imgsz, batch=args.batch, steps=args.steps, amp=args.amp)
        for arch in args.archs
    }
    if args.json:
        print(json.dumps({"machine": machine, "settings": vars(args), "images_per_s": results}, indent=2))
        return
    print(f"# {machine}, {torch.get_num_threads()} threads, torch {torch.__version__}, {vars(args)}")
    print("| architecture | train images/s |\n|---|---|")
    for arch, ips in results.items():
        print(f"| {arch} | {ips:.1f} |")


if __name__ == "__main__":
    main()
