import subprocess
import sys

from resattn.cli import main


def test_list_and_filter(capsys):
    assert main(["list", "cifar"]) == 0
    out = capsys.readouterr().out.split()
    assert "attention92_cifar" in out and "attention56" not in out


def test_info_prints_counts_and_paper(capsys):
    assert main(["info", "attention56"]) == 0
    out = capsys.readouterr().out
    assert "31,810,728" in out and "6.271" in out and "31.9 M params" in out


def test_info_grayscale_size(capsys):
    assert main(["info", "attention56_cifar", "--img-size", "28", "--in-chans", "1"]) == 0
    assert "1x28x28" in capsys.readouterr().out


def test_unknown_model_is_one_clear_line(capsys):
    assert main(["info", "atention56"]) == 2
    err = capsys.readouterr().err
    assert "Unknown model 'atention56'" in err and "Traceback" not in err


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "resattn", "list", "next"], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["attentionnext56", "attentionnext92"]
