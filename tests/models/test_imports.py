"""The models package stands on its own: the networks, their specs and their registration with timm do not import
the data pipeline (``resattn/__init__.py`` imports the models package only)."""

import ast
import importlib.util
import runpy
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}; import sys; print(' '.join(sorted(m for m in sys.modules if m.startswith('resattn'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_models_do_not_import_data():
    loaded = _modules_after("import resattn.models")
    assert "resattn.models.released" in loaded  # the released entries, which name the dataset they were trained on
    assert "resattn.data" not in loaded



def _imported_packages(path: Path) -> set[str]:
    """Top-level names of the absolute imports in a Python file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_hubconf_dependencies_are_what_its_entry_points_import():
    """torch.hub checks ``dependencies`` before it imports hubconf.py: they are the third-party packages that
    hubconf.py and the modules ``import resattn.models`` loads import themselves."""
    loaded = _modules_after("import resattn.models")
    files = [REPO / "hubconf.py"] + [Path(importlib.util.find_spec(name).origin) for name in loaded]
    third_party = set().union(*map(_imported_packages, files)) - set(sys.stdlib_module_names) - {"resattn"}
    namespace = runpy.run_path(str(REPO / "hubconf.py"))
    assert sorted(namespace["dependencies"]) == sorted(third_party)
