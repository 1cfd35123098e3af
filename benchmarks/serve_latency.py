"""Latency of `resattn serve`'s JSON API: p50 / p95 of POST /api/predict and POST /api/masks over N requests.

    python benchmarks/serve_latency.py [--requests 30] [--concurrency 1] [--modes eager frozen] [--json out.json]

Each model is served by the real app (uvicorn on a loopback port, in this process) and timed from the client side:
upload, decoding, preprocessing, the forward pass, the mask pictures and the JSON answer. Models:
``attention56_cifar.fmnist`` (released weights, 28x28 grey) and ``attention56`` at 224 (untrained weights: the
time does not depend on them). Mode ``frozen`` answers /api/predict with the compiled, weight-frozen model
(``resattn serve --fast-predict``); /api/masks needs the eager model's hooks and runs eager in both modes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import torch
from PIL import Image

from resattn.engine.restore import load_model
from resattn.serve import Limits, ModelService, create_app
from resattn.serve.background import BackgroundServer
from resattn.serve.client import post_image

EXAMPLE = Path(__file__).parents[1] / "src" / "resattn" / "serve" / "static" / "examples" / "trouser.png"
MODELS = {  # name -> (pretrained, upload side in pixels)
    "attention56_cifar.fmnist": (True, 28),
    "attention56": (False, 320),  # a photo-sized upload: the server resizes to 256 and crops 224
}


def upload(side: int) -> bytes:
    """The bundled trouser example as an RGB PNG of ``side`` x ``side``."""
    buffer = io.BytesIO()
    Image.open(EXAMPLE).convert("RGB").resize((side, side), Image.BILINEAR).save(buffer, format="PNG")
    return buffer.getvalue()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def timed_post(url: str, data: bytes) -> float:
    start = time.perf_counter()
    status, out = post_image(url, data)
    if status != 200:
        raise RuntimeError(f"{url}: HTTP {status}: {out}")
    return (time.perf_counter() - start) * 1000


def start_servers(name: str, modes: list[str], args: argparse.Namespace, stack: ExitStack) -> tuple[dict, float]:
    """One server per mode, all for the same model; returns {mode: (url, input size)} and the longest start-up."""
    pretrained, _ = MODELS[name]
    servers, slowest = {}, 0.0
    for mode in modes:
        loaded = load_model(model=name, pretrained=pretrained)
        start = time.perf_counter()
        service = ModelService(loaded, "benchmark", workers=args.workers,
                               limits=Limits(max_waiting=args.concurrency), fast_predict=mode == "frozen")
        slowest = max(slowest, time.perf_counter() - start)  # the frozen mode compiles here
        servers[mode] = (stack.enter_context(BackgroundServer(create_app(service))).url, service.spec.img_size)
    return servers, slowest


def bench_model(name: str, args: argparse.Namespace) -> list[dict]:
    """Requests to every (mode, endpoint) in turn, round after round, so that a change in the machine's load
    during the run falls on all of them alike (this machine is shared)."""
    data = upload(MODELS[name][1])
    # /api/masks runs the eager model whatever the mode: it is timed once, on the eager server when there is one
    targets = [(mode, "predict") for mode in args.modes] + [(args.modes[0], "masks")]
    with ExitStack() as stack, ThreadPoolExecutor(args.concurrency) as pool:
        servers, start_s = start_servers(name, args.modes, args, stack)
        times: dict[tuple[str, str], list[float]] = {t: [] for t in targets}
        for round_ in range(3 + args.requests):  # 3 warm-up rounds: allocator, caches, first-call paths
            for mode, endpoint in targets:
                url = f"{servers[mode][0]}/api/{endpoint}"
                ms = list(pool.map(lambda _, u=url: timed_post(u, data), range(args.concurrency)))
                if round_ >= 3:
                    times[(mode, endpoint)] += ms
    rows = []
    for (mode, endpoint), ms in times.items():
        row = dict(model=name, input=servers[mode][1], mode=mode, endpoint=f"/api/{endpoint}",
                   p50_ms=percentile(ms, 50), p95_ms=percentile(ms, 95), mean_ms=statistics.fmean(ms),
                   requests=len(ms), start_s=start_s)
        rows.append(row)
        print(f"{name:26s} {row['input']:4d} {mode:7s} /api/{endpoint:8s} p50 {row['p50_ms']:8.1f} ms  "
              f"p95 {row['p95_ms']:8.1f} ms  ({len(ms)} requests)", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--modes", nargs="+", default=["eager", "frozen"], choices=["eager", "frozen"])
    parser.add_argument("--requests", type=int, default=30, help="timed rounds (requests per endpoint: rounds x "
                                                                  "concurrency)")
    parser.add_argument("--concurrency", type=int, default=1, help="requests sent at once to each endpoint")
    parser.add_argument("--workers", type=int, default=1, help="server inference workers")
    parser.add_argument("--threads", type=int, help="torch threads (default: CPU cores / workers)")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // args.workers))
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {args.workers} worker(s), {args.concurrency} client(s), "
          f"{args.requests} requests per endpoint", flush=True)
    rows = [row for name in args.models for row in bench_model(name, args)]
    print("\n| model | input | mode | endpoint | p50 ms | p95 ms | requests |\n|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['input']} | {r['mode']} | {r['endpoint']} | {r['p50_ms']:.1f} | "
              f"{r['p95_ms']:.1f} | {r['requests']} |")
    starts = {r["model"]: r["start_s"] for r in rows}
    print("start-up (model on the device to first request; the frozen mode compiles): " +
          ", ".join(f"{m} {s:.0f} s" for m, s in starts.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
