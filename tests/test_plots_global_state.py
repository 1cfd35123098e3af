"""Library plots draw on their own Agg canvas: they neither switch matplotlib's backend nor import pyplot."""

from __future__ import annotations

import os
import subprocess
import sys

CODE = """
import sys
from pathlib import Path
import matplotlib
from resattn.analysis.response import plot_responses
from resattn.engine.plots import plot_curves
from resattn.reproduce import experiments, grid

out = Path(sys.argv[1])
rows = [dict(step=s, train_loss=1.0 / s, val_loss=1.2 / s, val_top1=50 + s, val_top5=90, mask_contrast_stage1=0.05)
        for s in (1, 2)]
plot_curves(rows, out / "curves.png")
plot_responses({"ARL": [1.0, 0.5, 0.3], "NAL": [1.0, 0.1, 0.0]}, str(out / "fig4.png"))
summary = [dict(label="a", mean=5.0, std=0.5, paper=5.52), dict(label="b", mean=6.0, std=0.1, paper=None)]
grid._plot(out / "results.png", experiments.EXPERIMENTS["table4"], summary)
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
print(*sorted(p.name for p in out.iterdir()))
"""


def test_plots_leave_the_backend_and_pyplot_alone(tmp_path):
    env = dict(os.environ, MPLBACKEND="svg")  # a backend the code must not replace with Agg
    out = subprocess.run([sys.executable, "-c", CODE, str(tmp_path)], env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout.splitlines()
    assert out[0] == "svg False"
    assert out[1] == "curves.png fig4.png results.png"
    for name in out[1].split():
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
