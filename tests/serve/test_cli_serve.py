"""`resattn serve` as a user runs it: a real process on a loopback port, stopped with Ctrl-C."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from resattn.cli import main
from resattn.cli.serve import weights_line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_alone_serves_the_released_model_until_interrupted():
    pytest.importorskip("uvicorn", reason="the serve extra is not installed")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "resattn", "serve", "--port", str(port), "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, info = time.monotonic() + 120, None
        while info is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/model", timeout=5) as resp:
                    info = json.loads(resp.read())
            except OSError:
                time.sleep(0.5)
        assert info is not None, proc.stdout.read() if proc.poll() is not None else "no answer within 120 s"
        assert info["name"] == "attention56_cifar.fmnist"
        assert info["weights"] == "released weights attention56_cifar.fmnist"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert f"on http://127.0.0.1:{port}" in out


def test_missing_extra_is_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the serve extra were not installed
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert 'pip install "resattn[serve]"' in err and "Traceback" not in err


def test_weights_line_says_where_weights_come_from():
    def args(**kw):
        base = dict(checkpoint=None, model="attention56", pretrained=False, ema=False)
        return type("Args", (), {**base, **kw})

    assert weights_line(args()).startswith("random initialisation")
    assert weights_line(args(pretrained=True, model="attention56_cifar.fmnist")) == \
        "released weights attention56_cifar.fmnist"
    assert weights_line(args(checkpoint="runs/x/best.pt", ema=True)) == "EMA weights of checkpoint runs/x/best.pt"
