"""What each rank of ``test_collectives.py``'s multi-process runs does (called by ``rank_worker.py``).

Each scenario initialises the process group from torchrun's variables, returns JSON-able results and cleans up.
"""

from __future__ import annotations

from typing import Any

import torch

from resattn.data import FakeDataset, create_transform
from resattn.engine import collectives as co
from resattn.engine.distributed import cleanup, init_distributed
from resattn.engine.sharded_eval import evaluate_sharded
from resattn.engine.stop import StopVote
from resattn.models.factory import create_model


def small_net() -> torch.nn.Module:
    torch.manual_seed(0)  # the same weights in every process
    return create_model("attention56_cifar", num_classes=10)


def fake_images(size: int) -> FakeDataset:
    return FakeDataset(size=size, image_size=16, transform=create_transform("cifar", train=False, img_size=16))


def collectives(spec: dict[str, Any]) -> dict[str, Any]:
    info = init_distributed("cpu")
    rank = info.rank
    try:
        local = torch.tensor([float(rank + 1), 10.0 * rank])
        module = torch.nn.Linear(2, 2)
        if rank == 0:
            module.weight.data.fill_(7.0)
        co.broadcast_module(module)
        votes = StopVote(distributed=True, lag=2)
        decisions = []
        for step in range(6):
            if rank == 1 and step == 1:
                votes.request()
            decisions.append(votes.poll())
        return dict(
            sum=co.all_reduce_sum(local).tolist(),
            mean=co.all_reduce_mean(torch.tensor(rank)).item(),
            max=co.all_reduce_max(local).tolist(),
            untouched=local.tolist(),
            broadcast=co.broadcast_tensor(torch.tensor([rank, rank]), src=1).tolist(),
            module=module.weight.flatten().tolist(),
            objects=co.gather_objects({"rank": rank}),
            object=co.broadcast_object("from rank 0" if rank == 0 else None),
            decisions=decisions,
        )
    finally:
        co.barrier()
        cleanup()


def sharded_evaluation(spec: dict[str, Any]) -> dict[str, Any]:
    init_distributed("cpu")
    try:
        net = small_net()
        # 50 images in batches of 8: 7 batches, uneven over the ranks; 12 images: 2 batches, so one of 3 ranks has none
        return {str(n): evaluate_sharded(net, fake_images(n), 8, torch.device("cpu")) for n in (50, 12)}
    finally:
        cleanup()
