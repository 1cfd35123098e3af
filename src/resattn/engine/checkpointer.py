"""A run's checkpoints: what they hold, how rank 0 writes them, resuming from one, and the weights the run ships.

In the run folder: ``last.pt`` (its predecessor kept as ``last.prev.pt``) at every save, ``best.pt`` at every
validation improvement, ``best.safetensors`` (the selected weights) at the end. Every rank takes part in each call
(the RNG gather, the barrier, the broadcasts); only rank 0 touches files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import (
    CheckpointError,
    checkpoint_weights,
    export_safetensors,
    load_checkpoint,
    load_resume_checkpoint,
    save_checkpoint,
)
from .collectives import barrier, broadcast_object, gather_objects
from .config import TrainConfig
from .distributed import DistInfo
from .restore import load_state_checked
from .rng import get_rng_state
from .weight_average import holds_shipped_weights

__all__ = ["Checkpointer", "Resumed"]


@dataclass
class Resumed:
    """Where a resumed run continues. ``rng`` is this rank's RNG state, None when the world size changed (the
    streams are then re-seeded and the run is no longer bit-exact)."""

    path: Path
    step: int
    best_top1: float
    wall_s: float
    rng: dict[str, Any] | None


class Checkpointer:
    """Saves and restores the state of ``model``, ``optimizer``, ``scaler`` and ``ema`` in ``out``."""

    def __init__(self, cfg: TrainConfig, out: Path, dist: DistInfo, model: nn.Module, model_args: dict[str, Any],
                 optimizer: torch.optim.Optimizer, scaler, ema, class_names: list[str],
                 log: Callable[[str], None]) -> None:
        self.cfg, self.out, self.dist = cfg, out, dist
        self.model, self.model_args, self.optimizer, self.scaler, self.ema = model, model_args, optimizer, scaler, ema
        self.class_names = list(class_names)
        self.log = log

    def save(self, name: str, step: int, best_top1: float, wall_s: float) -> None:
        """``<name>.pt`` (``last`` keeps its predecessor), holding every rank's RNG state."""
        rng = get_rng_state()
        if self.dist.enabled:
            rng = {"per_rank": gather_objects(rng)}
        if self.dist.rank == 0:
            state = dict(
                model_name=self.cfg.model, model_args=self.model_args, model=self.model.state_dict(),
                optimizer=self.optimizer.state_dict(), scaler=self.scaler.state_dict() if self.scaler else None,
                ema=self.ema.module.state_dict() if holds_shipped_weights(self.ema, step) else None,
                step=step, best_top1=best_top1, rng=rng,
                config=self.cfg.to_dict(), class_names=self.class_names, dataset=self.cfg.dataset,
                world_size=self.dist.world_size, wall_s=wall_s,
            )
            save_checkpoint(state, self.out / f"{name}.pt", keep_previous=name == "last")
        barrier()

    def resume(self) -> Resumed | None:
        """Loads ``--resume`` (``auto``: the newest readable ``last`` checkpoint of the run folder) into the model,
        optimizer, scaler and EMA; None when there is nothing to resume."""
        cfg = self.cfg
        if not cfg.resume:
            return None
        if cfg.resume == "auto":
            path, state = self._auto()
            if path is None:
                self.log(f"--resume auto: nothing to resume in {self.out}, starting a new run")
                return None
        else:
            path, state = Path(cfg.resume), load_checkpoint(cfg.resume)
        if state.get("model_name") != cfg.model:
            raise CheckpointError(f"{path} holds a {state.get('model_name')!r} model, but --model is {cfg.model!r}")
        load_state_checked(self.model, state["model"], path, cfg.model, self.model_args)
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        if self.ema and state.get("ema"):
            self.ema.module.load_state_dict(state["ema"])
        rng = state["rng"]
        if "per_rank" in rng:
            if len(rng["per_rank"]) != self.dist.world_size:
                self.log("resuming with another world size: RNG streams are re-seeded, the run is not bit-exact")
                rng = None
            else:
                rng = rng["per_rank"][self.dist.rank]
        return Resumed(path, int(state["step"]), float(state["best_top1"]), float(state.get("wall_s", 0.0)), rng)

    def _auto(self) -> tuple[Path | None, dict[str, Any] | None]:
        """Rank 0 picks the file (the newest readable one); every rank resumes from that same file."""
        found = load_resume_checkpoint(self.out) if self.dist.rank == 0 else None
        chosen = broadcast_object(str(found[0]) if found else None)
        if chosen is None:
            return None, None
        path = Path(chosen)
        if found:
            return path, found[1]
        if not path.is_file():
            raise CheckpointError(f"rank 0 resumes from {path}, which rank {self.dist.rank} cannot see: with several "
                                  f"machines, --output must be a folder that every machine sees")
        return path, load_checkpoint(path)

    def export_selected(self, step: int) -> tuple[dict[str, torch.Tensor] | None, int]:
        """Writes ``best.safetensors``: the weights of ``best.pt`` (the EMA's where there is one), or the current
        ones when ``best.pt`` is missing (a run without a validation split, or one resumed into a new folder whose
        evaluations never beat the resumed best). Returns the weights (rank 0; None elsewhere) and their step (every
        rank).

        Rank 0 alone reads them: no other rank needs to see the run folder.
        """
        weights, best_step = None, None
        if self.dist.rank == 0:
            weights, best_step = self._selected_weights(step)
            metadata = dict(model=self.cfg.model, model_args=json.dumps(self.model_args), dataset=self.cfg.dataset,
                            class_names=json.dumps(self.class_names))
            export_safetensors(weights, self.out / "best.safetensors", metadata=metadata)
        return weights, broadcast_object(best_step)

    def _selected_weights(self, step: int) -> tuple[dict[str, torch.Tensor], int]:
        path = self.out / "best.pt"
        if path.exists():
            best = load_checkpoint(path)
            return checkpoint_weights(best, "ema" if best.get("ema") else "model", path), int(best["step"])
        return (self.ema.module if self.ema else self.model).state_dict(), step
