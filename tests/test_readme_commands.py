"""Every shell command of README.md and docs/*.md runs, at small scale (how: ``readme_commands.py``).

A command that fails is a failing test, so the documentation cannot drift from the code. The commands run in the
order of the documents, in one working folder, as a reader would type them (``resattn predict --onnx model.onnx``
reads what ``resattn export`` wrote); quick ones run in the default suite (``make test``, which .ci/run runs),
the others are marked slow (``make test-all`` runs them). Quick ones run in the test's process, the others as
processes of their own.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from readme_commands import REPO, DocCommand, documented_commands, substitute
from resattn.engine.teacher_targets import save_teacher_targets

pytestmark = pytest.mark.xdist_group("readme_commands")  # one worker: the commands share a folder, in order

COMMANDS = documented_commands()
RUNNABLE = [c for c in COMMANDS if c.not_run_reason() is None]
ENV = dict(OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo", MPLBACKEND="Agg")


def as_param(command: DocCommand):
    return pytest.param(command, id=f"{command.source} {command.text}",
                        marks=() if command.quick() else (pytest.mark.slow,))


def fashion_mnist_images(count_per_class: dict[str, int]) -> dict[str, list[np.ndarray]]:
    from resattn.data import FASHION_MNIST_CLASSES, create_dataset

    test = create_dataset("fashion_mnist", split="test")
    wanted = {FASHION_MNIST_CLASSES.index(name): name for name in count_per_class}
    out: dict[str, list[np.ndarray]] = {name: [] for name in count_per_class}
    for i in range(len(test)):
        image, label = test[i]
        name = wanted.get(int(label))
        if name and len(out[name]) < count_per_class[name]:
            out[name].append(image.squeeze(0).numpy())
    return out


def write_cifar10(root: Path, per_batch: int = 20, classes: int = 10) -> None:
    """The python version of CIFAR-10, five training batches and a test batch of random images."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 b"labels": [int(v) for v in rng.integers(0, classes, per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch))
    names = [f"class{i}".encode() for i in range(classes)]
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}))


def write_image_tree(root: Path, counts: dict[str, int], size: int = 80) -> None:
    """An ImageNet-style tree: root/<split>/<wnid>/*.JPEG, one colour per class."""
    for split, count in counts.items():
        for c, wnid in enumerate(("n01440764", "n01443537")):
            folder = root / split / wnid
            folder.mkdir(parents=True)
            for i in range(count):
                colour = np.array([200 * (1 - c), 60 + i, 200 * c], dtype=np.uint8)
                Image.fromarray(np.broadcast_to(colour, (size, size, 3)).copy()).save(folder / f"{i}.JPEG")


def untrained_checkpoint(path: Path, model: str, **args) -> None:
    from resattn.engine.checkpoint import save_checkpoint
    from resattn.models.factory import create_model

    args = dict(num_classes=10, in_chans=1, **args)
    net = create_model(model, **args)
    save_checkpoint(dict(model_name=model, model_args=args, model=net.state_dict(), dataset="fashion_mnist",
                         class_names=[]), path)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The working folder, with every input the documents assume but ``runs/RUN`` (see readme_commands.py)."""
    work = tmp_path_factory.mktemp("readme")
    for name in ("benchmarks", "configs", "scripts"):
        (work / name).symlink_to(REPO / name)
    (work / "tmp").mkdir()
    shutil.copytree(REPO / "docs" / "figures" / "samples", work / "docs" / "figures" / "samples")
    (work / "docs" / "runs").symlink_to(REPO / "docs" / "runs")  # run records, read by the documents' commands
    (work / "src" / "resattn").mkdir(parents=True)
    (work / "src" / "resattn" / "weights").symlink_to(REPO / "src" / "resattn" / "weights")  # the released weights
    images = fashion_mnist_images({"Shirt": 31, "Trouser": 30})
    for name, arrays in images.items():
        for i, array in enumerate(arrays[:30]):
            folder = work / "my_images" / name
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(array).save(folder / f"{i:02d}.png")
    Image.fromarray(images["Shirt"][30]).save(work / "shirt.png")
    shutil.copytree(REPO / "docs" / "figures" / "samples", work / "new_images")
    write_cifar10(work / "data" / "cifar")
    write_image_tree(work / "imagenet", {"train": 30, "val": 4})
    for name, model, args in (("arl.pt", "attention56_cifar", {}),
                              ("nal.pt", "attention56_cifar", dict(attention_residual=False)),
                              ("resnet.pt", "preact_resnet164_cifar", {})):
        untrained_checkpoint(work / name, model, **args)
    (work / "runs").mkdir()
    save_teacher_targets(work / "runs" / "teachers.safetensors", torch.full((60_000, 10), 0.1), "fashion_mnist",
                         ["uniform"])
    return work


@pytest.fixture(scope="module")
def documents_run(workdir: Path) -> Path:
    """``runs/RUN`` (and ``RUN``): a one-step Fashion-MNIST run, for the commands that read a run's files."""
    from resattn.engine.config import TrainConfig
    from resattn.engine.trainer import train

    run = workdir / "runs" / "RUN"
    train(TrainConfig().update(dict(epochs=None, iters=1, batch_size=8, val_split=32, warmup_iters=0, test=False,
                                    output=str(run), progress="none"), "the RUN of the documents"))
    (workdir / "RUN").symlink_to(run)
    return run


def run_documented(command: DocCommand, workdir: Path, timeout: float) -> None:
    """Run ``command`` (as many at once as it names machines); fails with its output if it fails."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, **ENV, **command.env)
    logs = [workdir / f"command{machine}.log" for machine in range(command.machines())]
    procs = []
    for log in logs:
        with log.open("w") as out:  # a session each: the whole tree (torchrun's workers) is killed on a hang
            procs.append(subprocess.Popen(substitute(command, port), cwd=workdir, env=env, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True))
    deadline = time.monotonic() + timeout
    try:
        for proc in procs:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    finally:
        hung = [proc for proc in procs if proc.poll() is None]
        for proc in hung:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = "\n".join(log.read_text()[-4000:] for log in logs)
    assert not hung, f"{command.source}: `{command.text}` still running after {timeout:.0f} s\n{output}"
    failed = [proc.returncode for proc in procs if proc.returncode != 0]
    assert not failed, f"{command.source}: `{command.text}` exited {failed}\n{output}"


def run_in_process(command: DocCommand, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A quick command in this process (``resattn.cli.main``, a script through runpy): no second start of Python
    and PyTorch, which would take longer than the command."""
    from resattn.cli import main

    argv = substitute(command)
    monkeypatch.chdir(workdir)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        if argv[1:3] == ["-m", "resattn"]:
            status = main(argv[3:])
        else:
            monkeypatch.setattr(sys, "argv", argv[1:])
            monkeypatch.syspath_prepend(str((workdir / argv[1]).parent))  # as `python script.py` does
            try:
                runpy.run_path(argv[1], run_name="__main__")
                status = 0
            except SystemExit as end:
                status = end.code or 0
    assert status == 0, f"{command.source}: `{command.text}` exited {status}\n{out.getvalue()[-4000:]}"


@pytest.mark.parametrize("command", [as_param(c) for c in RUNNABLE])
def test_documented_command_runs(command: DocCommand, workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                 request: pytest.FixtureRequest) -> None:
    if "RUN" in command.words or any("RUN/" in word for word in command.words):
        request.getfixturevalue("documents_run")
    if command.quick():
        run_in_process(command, workdir, monkeypatch)
    else:
        run_documented(command, workdir, timeout=900)


def test_the_documents_commands_are_found():
    """The extraction finds the README's commands, the DDP ones included, and runs all but a named few."""
    texts = [c.text for c in COMMANDS]
    assert "torchrun --nproc_per_node 2 -m resattn train --device cpu --dataset fake --iters 20" in texts
    assert any("--rdzv_endpoint $MASTER_HOST:29500" in t for t in texts)  # continuation line joined
    assert "make install" in texts and "resattn train" in texts  # `make install && resattn train` split
    assert any(c.starts_with("resattn export") for c in RUNNABLE)
    assert len(RUNNABLE) >= 20


def test_substitutions():
    from readme_commands import extract

    doc = REPO / "tests" / "_tmp_doc.md"
    try:
        doc.write_text("```bash\nresattn train --epochs 20 --model x  # note\n"
                       "torchrun --nproc_per_node 8 -m resattn train -c configs/imagenet_attention56.yaml \\\n"
                       "  --data-dir /data/imagenet\n```\n")
        first, second = extract(doc)
    finally:
        doc.unlink()
    assert first.text == "resattn train --epochs 20 --model x"
    argv = substitute(first)
    assert argv[1:4] == ["-m", "resattn", "train"] and "--epochs" not in argv
    assert argv[4:] == ["--model", "x", "--iters", "2", "--output", "runs/tests_tmp_doc_md_2", "--batch-size", "16",
                        "--no-test", "--val-split", "32", "--workers", "0"]
    argv = substitute(second)
    assert argv[argv.index("--nproc_per_node") + 1] == "2" and "imagenet" in argv and "/data/imagenet" not in argv
    assert argv[-7:] == ["--img-size", "64", "--no-test", "--val-split", "32", "--workers", "0"]
