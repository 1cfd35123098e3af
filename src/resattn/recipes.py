"""Training recipes shipped in the package (``resattn/configs/*.yaml``) and how ``resattn train -c`` finds one.

A repository checkout also reaches them as ``configs/`` at its root (a link to the same folder), so
``-c configs/NAME.yaml`` works there as a path, and from an installed package as the recipe NAME.
"""

from __future__ import annotations

from pathlib import Path

RECIPE_DIR = Path(__file__).resolve().parent / "configs"


def recipe_names() -> list[str]:
    """The names of the shipped recipes (file names without ``.yaml``), sorted."""
    return sorted(path.stem for path in RECIPE_DIR.glob("*.yaml"))


def find_recipe(name: str | Path) -> Path:
    """The YAML file that ``-c name`` means.

    Args:
        name: a path to a YAML file; or a shipped recipe by name, with or without ``.yaml`` and with or without the
            ``configs/`` folder in front (``cifar10_attention92_cifar``, ``configs/cifar10_attention92_cifar.yaml``).

    Returns:
        ``name`` itself when it is an existing file, else the shipped recipe of that name.

    Raises:
        FileNotFoundError: neither a file nor a shipped recipe; the message lists the shipped ones.
    """
    path = Path(name).expanduser()
    if path.is_file():
        return path
    parts = path.parts
    if not path.is_absolute() and (len(parts) == 1 or (len(parts) == 2 and parts[0] == "configs")):
        stem = path.name[: -len(".yaml")] if path.name.endswith(".yaml") else path.name
        shipped = RECIPE_DIR / f"{stem}.yaml"
        if shipped.is_file():
            return shipped
    raise FileNotFoundError(f"No recipe {str(name)!r}: not a file, and not a shipped recipe (those are "
                            f"{', '.join(recipe_names())})")
