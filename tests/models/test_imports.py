"""The models package stands on its own: the networks, their specs and their registration with timm do not import
the data pipeline (``resattn/__init__.py`` imports the models package only)."""

import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}; import sys; print(' '.join(sorted(m for m in sys.modules if m.startswith('resattn'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_models_do_not_import_data():
    loaded = _modules_after("import resattn.models")
    assert "resattn.models.released" in loaded  # the released entries, which name the dataset they were trained on
    assert "resattn.data" not in loaded


