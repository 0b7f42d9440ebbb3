# ReliefDesk — `make run` opens the app on the demo county, `make test` runs the whole suite.
# Both work on a fresh Debian 12 machine (as root, or with sudo available).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.reqs-$(shell cat requirements-dev.lock | sha256sum | cut -c1-16)
export QTWEBENGINE_DISABLE_SANDBOX ?= 1
export PYTHONDONTWRITEBYTECODE = 1

DEBS := libasound2 libbrotli1 libdbus-1-3 libegl1 libfontconfig1 libfreetype6 libgbm1 libgl1 \
	libglib2.0-0 libnspr4 libnss3 libx11-6 libxcb-dri3-0 libxcb1 libxcomposite1 libxdamage1 \
	libxext6 libxfixes3 libxkbcommon0 libxkbfile1 libxrandr2 libxtst6 libxcb-cursor0 \
	libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0 \
	libxkbcommon-x11-0 xvfb xauth fonts-wqy-microhei poppler-utils poppler-data qt6-l10n-tools

.PHONY: run test setup debs venv lint clean demo bench wheelhouse install uninstall bundle bundle-test deb lock \
	translations translations-update db db-stop

run: setup
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
		echo "No display: starting the app under Xvfb (set DISPLAY to use your screen)"; \
		xvfb-run -a -s "-screen 0 1600x1000x24" $(VENV)/bin/python app.py; \
	else $(VENV)/bin/python app.py; fi

test: setup db
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	@RELIEFDESK_DB_REQUIRED=1 QT_QPA_PLATFORM=offscreen $(VENV)/bin/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit 5): the suite is missing" >&2; exit 1; fi; \
	exit $$rc

setup: debs venv translations

# Qt's translation pipeline (tools/translations.py): `translations` compiles resources/i18n/*.ts
# to .qm with lrelease (build products, not versioned; without lrelease the app reads the .ts);
# `translations-update` re-extracts the UI strings into the .ts with lupdate (developers).
translations: debs venv
	@$(VENV)/bin/python tools/translations.py release

translations-update:
	$(VENV)/bin/python tools/translations.py update

debs:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(STAMP)

# Installs exactly the locked versions, each checked against its hash (requirements-dev.lock =
# pyproject's dependencies + the dev and bench extras; regenerate with `make lock`).
$(STAMP): requirements-dev.lock
	@test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q --require-hashes -r requirements-dev.lock
	@rm -f $(VENV)/.reqs-*
	@touch $@

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

demo: setup
	$(VENV)/bin/python tools/build_demo.py

bench: setup
	$(VENV)/bin/python benchmarks/bench_matrix.py

# Lock files from pyproject.toml (the one list of dependencies), pinned with sha256 hashes, for
# the platform this runs on: run it on Linux x86_64 with CPython 3.11 (Debian 12). pip-tools goes
# into its own venv; the local pip configuration is ignored so only the registry's files count.
LOCK_VENV ?= build/lock-venv
PIP_COMPILE = env PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= PIP_CONSTRAINT= $(LOCK_VENV)/bin/pip-compile \
	--quiet --generate-hashes --allow-unsafe --strip-extras --no-header --annotation-style=line
lock:
	@test -x $(LOCK_VENV)/bin/pip-compile || { $(PY) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/python -m pip install -q pip-tools; }
	$(PIP_COMPILE) -o requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra dev --extra bench -o requirements-dev.lock pyproject.toml
	$(PIP_COMPILE) --extra build -o requirements-build.lock pyproject.toml

# Offline install: download every wheel requirements.lock needs into installer/wheelhouse/, on a
# connected machine of the target's kind (Debian 12, x86_64, Python 3.11); copy the checkout
# with it, then run installer/install.sh there (it installs from the wheelhouse, no network).
wheelhouse:
	$(PY) -m pip download --require-hashes --only-binary=:all: -r requirements.lock -d installer/wheelhouse
	@echo "installer/wheelhouse: $$(ls installer/wheelhouse | wc -l) files"

PREFIX ?= /opt/reliefdesk
install:
	installer/install.sh $(PREFIX)

uninstall:
	installer/install.sh --uninstall $(PREFIX)

# Frozen one-folder build (PyInstaller: several minutes, ~1 GB of disk; NOT part of `make test`):
# dist/ReliefDesk/ReliefDesk runs without Python. `make bundle-test` smoke-tests it with no
# Python on PATH; `make deb` packages it for /opt/reliefdesk (menu entry + icon).
bundle: setup
	$(VENV)/bin/python -m pip install -q --require-hashes -r requirements-build.lock
	$(VENV)/bin/python -m PyInstaller --noconfirm --distpath dist --workpath build/pyinstaller \
		installer/reliefdesk.spec

bundle-test: bundle
	installer/bundle_smoke.sh dist/ReliefDesk

deb: bundle
	installer/make_deb.sh dist/ReliefDesk dist

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

# Shared PostGIS workspace (issue 16): a local cluster in .db/ on 127.0.0.1 (no system service),
# roles rd_admin/rd_operator/rd_planner/rd_viewer, URLs in .db/urls.env (tools/db_cluster.py).
DB_DEBS := postgresql-15 postgresql-15-postgis-3
db: setup
	@$(MAKE) --no-print-directory debs DEBS="$(DB_DEBS)"
	$(VENV)/bin/python tools/db_cluster.py start

db-stop:
	$(VENV)/bin/python tools/db_cluster.py stop
