# Every target installs what it needs first, so each works on a fresh clone.
# torch==2.13.0 is pinned here (not in setup.cfg) so that pip takes the CPU build that
# lies on this machine's disk instead of pulling a multi-GB CUDA build.
PYTHON ?= python3
PIP := $(PYTHON) -m pip
TORCH_CPU ?= torch==2.13.0

.PHONY: install install-test demo test docs bench bench-vinet lint clean

install:
	$(PIP) install -q $(TORCH_CPU)
	$(PIP) install -q -e ".[plot]"

# $(TORCH_CPU) again beside the extras pins torch in the same resolution, so the test
# extra's torchvision (which requires torch==2.13.0) can never pull another torch build.
install-test:
	$(PIP) install -q $(TORCH_CPU)
	$(PIP) install -q -e ".[test,docs,plot,lint]" "$(TORCH_CPU)"

demo: install
	$(PYTHON) -m bridge.cli demo  # = `vinet demo`, even where pip's script folder is not on PATH

test: install-test
	$(PYTHON) -m pytest -q

docs: install-test
	$(PYTHON) -m sphinx -W --keep-going -q -b html docs docs/_build/html

bench: install-test
	$(PYTHON) benchmarks/run_all.py

# The VI-Net evaluation suite (issue 9): 3 pairs x 3 cuts x 3 seeds, <= 20 min on 2 cores
# once its backbones are cached; `python benchmarks/vinet_suite.py --quick` is the smoke run.
bench-vinet: install-test
	$(PYTHON) benchmarks/vinet_suite.py

lint: install-test
	$(PYTHON) -m ruff check vinet.py algebra neural bridge tests benchmarks docs

clean:
	rm -rf build dist *.egg-info docs/_build .pytest_cache
