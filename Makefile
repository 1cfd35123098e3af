# One place for the project's commands; README and .ci/run call these targets.
PYTHON ?= python3
# This machine's pip serves these two from its local disk; elsewhere pick the build for your hardware.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install install-data install-browser install-python train test test-all lint

install: install-data install-browser install-python

install-data:  # Fashion-MNIST IDX files into /usr/share/datasets/fashion-mnist (Debian package)
	$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq dataset-fashion-mnist

install-browser:  # headless Chromium and its WebDriver (Debian packages), for the browser test of `resattn serve`
	$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver

install-python:
	$(PYTHON) -m pip install -q $(TORCH_SPEC)
	$(PYTHON) -m pip install -q -e ".[dev,onnx,gradcam,serve]"

train:
	resattn train

test:  # everything but the tests marked slow (multi-process runs, the documents' long commands)
	$(PYTHON) -m pytest -q -n 2 --dist loadgroup -m "not slow" tests

test-all:  # every test, the slow ones too (multi-process runs, every documented command at small scale)
	$(PYTHON) -m pytest -q -n 2 --dist loadgroup tests

lint:
	ruff check src tests scripts benchmarks hubconf.py
