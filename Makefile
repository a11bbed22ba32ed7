# Every target sets up what it needs: a fresh Debian/Ubuntu machine needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test test-fast lint bench screenshots realguest-setup lab lab-down record clean

$(STAMP): pyproject.toml scripts/ensure-system-packages.sh
	@scripts/ensure-system-packages.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip
	@$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@$(BIN)/balloon-tui --demo

lint: $(STAMP)
	$(BIN)/ruff check balloon_tui tests benchmarks scripts
	$(BIN)/ruff format --check balloon_tui tests benchmarks scripts
	$(BIN)/mypy balloon_tui scripts/screenshots.py scripts/lab.py scripts/record_demo.py scripts/demo_session.py
	$(BIN)/lint-imports

realguest-setup: $(STAMP)
	@scripts/realguest/setup.sh
	@scripts/realguest/sshd.sh

# A few real guests (balloon-lab-*) on the local libvirtd, then the app on them. Quitting the
# app leaves them running; `make lab-down` removes them, and only them.
# LAB_ARGS: more options for the app, e.g. LAB_ARGS="--budget 1200M".
LAB_ARGS ?=
lab: $(STAMP) realguest-setup
	@$(BIN)/python scripts/lab.py up
	@exec $(BIN)/balloon-tui -c qemu:///system $(LAB_ARGS)

lab-down: $(STAMP)
	@$(BIN)/python scripts/lab.py down

test: $(STAMP) lint realguest-setup
	$(BIN)/pytest -q -p no:cacheprovider

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not realguest"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py screenshots

# screenshots/demo.cast and demo.gif: a scripted session on the demo (scripts/record_demo.py).
# Run it again after changing the screens: tests/tui/test_demo_recording.py says when.
record: $(STAMP)
	@scripts/ensure-system-packages.sh fonts-dejavu-core
	$(BIN)/python scripts/record_demo.py

clean:
	rm -rf $(VENV) build .mypy_cache .ruff_cache
