"""Why the mask branch resamples in channels_last on the CPU: NCHW vs NHWC max-pool and bilinear upsampling.

python benchmarks/mask_ops.py   # prints ms per call and the NCHW / NHWC ratio, same process, same tensors
"""

import statistics
import time

import torch
import torch.nn.functional as F


def median_ms(fn, repeats: int = 10) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    x = torch.randn(8, 256, 56, 56)  # stage 1 of Attention-56 at 224, batch 8
    low = torch.randn(8, 256, 28, 28)
    cases = {
        "max-pool 3x3/2 ceil 56->28": lambda t: F.max_pool2d(t, 3, 2, 0, ceil_mode=True),
        "bilinear 28->56 align_corners": lambda t: F.interpolate(t, size=(56, 56), mode="bilinear",
                                                                 align_corners=True),
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| op | NCHW ms | NHWC ms (incl. conversion) | NCHW / NHWC |")
    print("|---|---|---|---|")
    with torch.inference_mode():
        for name, op in cases.items():
            src = low if "bilinear" in name else x
            nchw = median_ms(lambda op=op, src=src: op(src))
            nhwc = median_ms(lambda op=op, src=src: op(src.contiguous(memory_format=torch.channels_last)))
            print(f"| {name} | {nchw:.1f} | {nhwc:.1f} | {nchw / nhwc:.1f} |")


if __name__ == "__main__":
    main()
