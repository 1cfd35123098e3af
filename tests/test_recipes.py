"""The training recipes ship in the package: `resattn train -c NAME` works anywhere, from a checkout or a wheel."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from resattn.cli import main
from resattn.cli.train import add_train_args, resolve_train_config
from resattn.recipes import RECIPE_DIR, find_recipe, recipe_names

REPO = Path(__file__).resolve().parents[1]
# The recipes the docs name; each must be shipped.
EXPECTED = {f"{data}_{model}" for data in ("cifar10", "cifar100") for model in (
    "attention56_cifar", "attention92_cifar", "attention128_cifar", "attention164_cifar", "attention236_cifar",
    "attention452_cifar", "preact_resnet164_cifar")} | {
    "imagenet_attention56", "imagenet_attention92", "fashion_mnist_default", "fashion_mnist_release", "finetune"}


def test_every_recipe_is_shipped_and_the_checkout_reaches_them_as_configs():
    assert set(recipe_names()) == EXPECTED
    assert RECIPE_DIR.parent == Path(sys.modules["resattn"].__file__).resolve().parent
    assert sorted(p.name for p in (REPO / "configs").glob("*.yaml")) == sorted(f"{n}.yaml" for n in EXPECTED)


@pytest.mark.parametrize("spelling", ["cifar10_attention92_cifar", "cifar10_attention92_cifar.yaml",
                                      "configs/cifar10_attention92_cifar.yaml"])
def test_a_recipe_by_name_from_any_folder(spelling, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ here
    assert find_recipe(spelling) == RECIPE_DIR / "cifar10_attention92_cifar.yaml"
    cfg = resolve_train_config(["-c", spelling])
    # paper section 4.1: Nesterov SGD, batch 64, weight decay 1e-4, LR 0.1 / 10 at 64k and 96k, stop at 160k
    assert (cfg.model, cfg.dataset, cfg.batch_size, cfg.lr, cfg.nesterov, cfg.weight_decay) == (
        "attention92_cifar", "cifar10", 64, 0.1, True, 1e-4)
    assert (cfg.sched, cfg.milestones, cfg.iters, cfg.epochs) == ("multistep", [64000, 96000], 160000, None)


def test_a_file_comes_before_a_shipped_recipe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").mkdir()
    own = tmp_path / "configs" / "finetune.yaml"
    own.write_text("lr: 0.003\n")
    assert find_recipe("configs/finetune.yaml") == Path("configs/finetune.yaml")
    assert resolve_train_config(["-c", "configs/finetune.yaml"]).lr == 0.003
    assert resolve_train_config(["-c", "finetune"]).lr == 0.01  # the shipped one


@pytest.mark.parametrize("name", ["cifar10_attention92", "elsewhere/finetune.yaml", "/nowhere/finetune.yaml"])
def test_an_unknown_recipe_lists_the_shipped_ones(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a shipped recipe"):
        find_recipe(name)
    assert main(["train", "-c", name]) == 2
    err = capsys.readouterr().err
    assert f"No recipe '{name}'" in err and "imagenet_attention56" in err and "Traceback" not in err


def test_train_help_names_a_recipe_that_exists():
    parser = argparse.ArgumentParser()
    add_train_args(parser)
    (action,) = [a for a in parser._actions if "--config" in a.option_strings]
    named = [w.strip("(),.") for w in action.help.split() if w.strip("(),.").endswith(("_cifar", ".yaml"))]
    assert named, action.help
    for word in named:
        assert find_recipe(word).is_file(), word


@pytest.mark.slow
def test_an_installed_wheel_ships_the_recipes(tmp_path):
    """Builds a wheel from a copy of the sources, installs it with --target, and reads a recipe by name there."""
    src = tmp_path / "src_copy"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "src" / "resattn", src / "src" / "resattn",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(src)], check=True, cwd=tmp_path, timeout=300)
    (wheel,) = wheels.glob("resattn-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"resattn/configs/{n}.yaml" for n in EXPECTED} <= set(names)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, timeout=300)
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = ("import resattn, resattn.recipes as r\n"
            "from resattn.cli.train import add_train_args, resolve_train_config\n"
            "cfg = resolve_train_config(['-c', 'imagenet_attention92'])\n"
            "print(resattn.__file__); print(r.find_recipe('configs/finetune.yaml'))\n"
            "print(cfg.model, cfg.milestones, cfg.iters)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=work, env={"PYTHONPATH": str(target), "PATH": ""},
                         capture_output=True, text=True, check=True, timeout=300).stdout.splitlines()
    assert out[0].startswith(str(target)) and out[1].startswith(str(target))
    assert out[2] == "attention92 [200000, 400000, 500000] 530000"  # paper section 4.2
