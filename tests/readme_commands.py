"""The shell commands of README.md and docs/*.md, and how the test suite runs each at small scale.

Extraction: every line of a fenced ``bash`` / ``sh`` / ``shell`` / ``console`` block, with ``\\`` continuations
joined, comments dropped and ``a && b`` split into two commands.

The substitutions (the only differences from what a reader types):

* The working folder is a fresh temporary one, holding the inputs the docs assume: ``benchmarks/``, ``configs/``,
  ``scripts/``, ``docs/runs/`` and ``src/resattn/weights/`` (links to the repository's), Fashion-MNIST test images
  (``shirt.png``, ``new_images/``, ``docs/figures/samples/``, and ``my_images/<class>/``: 30 of each of two
  classes), a small CIFAR-10 under ``data/cifar``, a small ImageNet-style tree for ``/data/imagenet``, a short run
  for ``runs/RUN`` (and ``RUN``), untrained ``arl.pt`` / ``nal.pt`` / ``resnet.pt`` checkpoints, and a table of
  uniform teacher predictions, ``runs/teachers.safetensors``. Outputs land there too.
* Absolute ``/tmp/`` paths become the working folder's ``tmp/``.
* ``resattn`` runs as ``python -m resattn``, ``torchrun`` as ``python -m torch.distributed.run``, ``python`` as
  this interpreter; ``--nproc_per_node 8`` becomes 2; a ``--nnodes N`` command runs N times at once (the N
  machines), with ``$MASTER_HOST`` = 127.0.0.1 and a free port.
* Training: 2 iterations (instead of ``--epochs`` / ``--iters``; no ``--swa-epochs``), a global batch of at most
  16, inputs of at most 64 pixels, 32 validation images, no loader processes, and no test evaluation but on the fake
  data (a real test split takes minutes on a CPU). A command that names no ``--output`` writes to
  ``runs/<document>_md_<line>`` (the README trains one recipe, which names its folder, in two commands).
* ``resattn benchmark``: inputs of 64 pixels, batch 1 (training 2), no warm-up, one repeat. ``resattn analyze``:
  64 images.

Commands in ``NOT_RUN`` are not run, for the reason given there. A command may read what an earlier one wrote (the
suite runs them in order), so the quick and the slow ones run together (``make test-all``).
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_FENCES = {"bash", "sh", "shell", "console"}

# Command prefix -> why the suite does not run it.
NOT_RUN = {
    "make install": "installs system and Python packages (apt-get, pip): .ci/run does it on a fresh machine",
    "make test": "runs this test suite",
    "resattn serve": "a web server that runs until it is stopped; tests/serve start the command and query it",
    "curl ": "queries a running `resattn serve`; tests/serve query its API",
    "python -m pytest": "runs tests of this suite",
    "export ": "a shell setting; the suite runs every command with OMP_NUM_THREADS=1",
    "resattn reproduce": "trains a grid of networks, hours on a CPU; tests/reproduce runs the grid's machinery at "
                         "2 iterations per run",
    "python scripts/release_check.py": "measures a finished 80-epoch release run on the whole test split; "
                                       "tests/test_release_check.py runs it on a short run",
    "python scripts/teacher_targets.py": "predicts all 60,000 Fashion-MNIST training images with each teacher, "
                                         "minutes on a CPU; tests/engine/test_teacher_targets.py runs it on fake "
                                         "data, and the working folder holds a table for the command that reads it",
    "./scripts/train_release.sh": "trains the 80-epoch release recipe, hours on a CPU; "
                                   "tests/test_train_release_script.py checks the command it runs",
    "resattn analyze masks --checkpoint runs/release_fmnist": "reads the checkpoint of a finished 80-epoch release "
                                                              "run; the same command on a short run's checkpoint "
                                                              "runs from docs/attention_maps.md",
    "./scripts/fig4_fashion_mnist.sh": "trains three 164-layer networks, then runs `resattn analyze response` and "
                                       "`resattn analyze masks`, which run here from the README",
}
# Command prefixes that take seconds: the default suite runs them; every other command is marked slow.
QUICK = ("resattn list", "resattn info", "resattn predict --model", "python scripts/")

TRAIN_ITERS, TRAIN_BATCH, TRAIN_SIZE, TRAIN_VAL = 2, 16, 64, 32
SCALE_FLAGS = {
    "benchmark": ["--img-size", "64", "-b", "1", "--train-batch", "2", "--warmup", "0", "--repeats", "1"],
    "analyze": ["--num-images", "64"],
}


@dataclass(frozen=True)
class DocCommand:
    source: str  # file:line
    text: str  # as written (continuations joined, comment dropped)
    argv: tuple[str, ...]

    @property
    def env(self) -> dict[str, str]:
        """Leading ``NAME=value`` assignments."""
        return dict(a.split("=", 1) for a in self.argv[:self._first_word()])

    @property
    def words(self) -> tuple[str, ...]:
        return self.argv[self._first_word():]

    def _first_word(self) -> int:
        i = 0
        while i < len(self.argv) and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", self.argv[i]):
            i += 1
        return i

    def starts_with(self, prefix: str) -> bool:
        return " ".join(self.words).startswith(prefix)

    def not_run_reason(self) -> str | None:
        return next((why for prefix, why in NOT_RUN.items() if self.starts_with(prefix)), None)

    def quick(self) -> bool:
        return any(self.starts_with(prefix) for prefix in QUICK)

    def machines(self) -> int:
        """How many machines the command is for (torchrun's ``--nnodes``)."""
        words = list(self.words)
        return int(words[words.index("--nnodes") + 1]) if "--nnodes" in words else 1


def shell_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line inside a shell fence, continuations joined."""
    out, fence, pending, start = [], None, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        marker = re.fullmatch(r"\s*```\s*(\w*)\s*", line)
        if marker:
            fence = None if fence is not None else marker.group(1).lower()
            continue
        if fence not in SHELL_FENCES:
            continue
        if not pending:
            start = number
        line = line.strip() if pending else line.rstrip()
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        out.append((start, pending + line))
        pending = ""
    return out


def extract(path: Path) -> list[DocCommand]:
    commands = []
    for number, line in shell_lines(path.read_text()):
        words = shlex.split(line, comments=True)
        text = line.split(" #")[0].strip()
        parts, current = [], []
        for word in [*words, "&&"]:
            if word == "&&":
                if current:
                    parts.append(tuple(current))
                current = []
            else:
                current.append(word)
        for argv in parts:
            piece = text if len(parts) == 1 else " ".join(argv)
            commands.append(DocCommand(f"{path.relative_to(REPO)}:{number}", piece, argv))
    return commands


def documented_commands() -> list[DocCommand]:
    return [command for path in DOCUMENTS for command in extract(path)]


def program(word: str) -> list[str]:
    """How this suite starts a documented program."""
    if word == "resattn":
        return [sys.executable, "-m", "resattn"]
    if word == "torchrun":
        return [sys.executable, "-m", "torch.distributed.run"]
    if word in ("python", "python3"):
        return [sys.executable]
    return [word]


def without(argv: list[str], *options: str) -> list[str]:
    """``argv`` without the given options and their values."""
    out, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word in options:
            skip = True
        elif not any(word.startswith(f"{o}=") for o in options):
            out.append(word)
    return out


def stated(train_args: list[str], name: str) -> Any:
    """A training setting as the command states it: its flag, else its ``-c`` recipe's key, else the default."""
    from resattn.cli.train import add_train_args
    from resattn.engine.config import TrainConfig, load_yaml

    parser = argparse.ArgumentParser()
    add_train_args(parser)
    args = parser.parse_args(train_args)
    if getattr(args, name) is not None:
        return getattr(args, name)
    recipe = load_yaml(REPO / args.config) if args.config else {}
    return recipe.get(name.replace("_", "-"), recipe.get(name, getattr(TrainConfig(), name)))


def small_training(train_args: list[str], source: str) -> list[str]:
    """The training arguments at small scale (see the module's docstring)."""
    # --swa-epochs averages whole epochs, thousands of steps even at this scale: tests/engine/test_weight_average.py
    # runs it on fake data instead
    args = without(train_args, "--epochs", "--iters", "--swa-epochs") + ["--iters", str(TRAIN_ITERS)]
    if "--output" not in train_args:  # a folder of its own, not its recipe's (two commands train the same recipe)
        args += ["--output", "runs/" + re.sub(r"[^A-Za-z0-9]+", "_", source)]
    if stated(train_args, "batch_size") > TRAIN_BATCH:
        args += ["--batch-size", str(TRAIN_BATCH)]
    if (stated(train_args, "img_size") or 0) > TRAIN_SIZE:
        args += ["--img-size", str(TRAIN_SIZE)]
    if stated(train_args, "dataset") != "fake":  # a real test split takes minutes on a CPU; the fake one seconds
        args += ["--no-test"]
    return args + ["--val-split", str(TRAIN_VAL), "--workers", "0"]


def substitute(command: DocCommand, port: int = 29500) -> list[str]:
    """The argv this suite runs for ``command``."""
    words = [w.replace("$MASTER_HOST:29500", f"127.0.0.1:{port}")
             .replace("/data/imagenet", "imagenet").replace("/tmp/", "tmp/") for w in command.words]
    start = program(words[0])
    argv = start + words[1:]
    if words[0] == "torchrun":
        argv = [("2" if w == "8" and argv[i - 1] == "--nproc_per_node" else w) for i, w in enumerate(argv)]
        at = argv.index("-m", len(start))  # torchrun's own options | -m resattn train | the training's
        launcher, rest = argv[:at + 3], argv[at + 3:]
        return launcher + small_training(rest, command.source) if launcher[-2:] == ["resattn", "train"] else argv
    sub = words[1] if len(words) > 1 else ""
    if words[0] == "resattn" and sub == "train":
        return argv[:4] + small_training(argv[4:], command.source)
    if words[0] == "resattn" and sub in SCALE_FLAGS:
        return argv + SCALE_FLAGS[sub]
    return argv
