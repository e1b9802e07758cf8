# xiangzhi — two commands: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then echo $$p; break; fi; done)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run dev test test-browser test-pg lint fmt lock setup demo clean bench

$(VENV)/.installed: requirements/lock.txt
	@if [ -z "$(PYTHON)" ]; then echo "需要 Python ≥ 3.11（未找到）"; exit 1; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/lock.txt
	@touch $@

setup: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py import_regions
	$(PY) manage.py collectstatic --noinput -v0

demo: setup
	$(PY) manage.py load_demo

run: demo
	HOST=$(HOST) PORT=$(PORT) bin/serve

dev: demo
	HOST=$(HOST) PORT=$(PORT) DEBUG=1 bin/serve --dev

test: $(VENV)/.installed
	PYTHONHASHSEED=0 $(PY) -m pytest -n auto --dist loadfile $(ARGS)

test-browser: $(VENV)/.installed
	$(PY) -m pytest -m browser -p no:xdist $(ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	-$(VENV)/bin/ruff format --check .  # advisory, like .ci/run, until the tree is formatted

fmt: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.installed
	$(PY) benchmarks/run.py $(ARGS)

# Re-resolve and pin every dependency from requirements/*.in
lock:
	rm -rf /tmp/xiangzhi-lock && $(PYTHON) -m venv /tmp/xiangzhi-lock
	/tmp/xiangzhi-lock/bin/pip install --quiet -r requirements/base.in -r requirements/dev.in
	(echo "# Pinned versions of every dependency (runtime + dev/test tools); installed by make."; \
	 echo "# Regenerate: make lock"; /tmp/xiangzhi-lock/bin/pip freeze) > requirements/lock.txt

clean:
	rm -rf $(VENV) var/static var/cache
