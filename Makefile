# Two entry points for a fresh Debian machine with Python 3.11: `make demo` and `make test`.
# Both bootstrap what is missing (Debian packages, .venv, the project) and are quick when done.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# fonts-noto-cjk: the report fonts; pango: WeasyPrint's text layout; harfbuzz-subset: fast CJK
# font subsetting (~25x faster than fontTools); poppler-utils: tests read PDFs with pdftotext/pdffonts;
# chromium: the browser the workspace tests drive with Playwright (no browser download);
# postgresql-15: the shared catalog for multi-office firms, and the throw-away server its tests start;
# postgresql-15-rum: the RUM index (positions in the index) that answers phrase searches without
# reading every candidate's tsvector (index/postgres_backend.py); the tests cover GIN without it too.
APT_PKGS := fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils \
  chromium postgresql-15 postgresql-15-rum
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# requirements.lock: the exact versions the tests passed with (Linux, Python 3.11, dev extra included);
# `make lock` regenerates it from pyproject.toml with a pinned uv, so the same inputs give the same file.
LOCK := requirements.lock
UV_VERSION := 0.13.9

.PHONY: demo test screenshots lint sysdeps bootstrap clean lock

demo: bootstrap
	$(BIN)/gongu demo

test: bootstrap
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The images under docs/web: the browser tests' own flows, saving their screenshots there instead of
# into a temporary folder (tests/webkit.py, screenshot_dir). `make test` leaves docs/web as it is.
WEB_TESTS := tests/test_web_browser.py tests/test_web_cases.py tests/test_web_forensic.py tests/test_web_archive.py \
             tests/test_web_layout.py tests/test_web_drafting_phone.py tests/test_web_drafting_browser.py \
             tests/test_web_check_page_browser.py
screenshots: bootstrap
	GONGU_SCREENSHOTS=$(CURDIR)/docs/web $(BIN)/python -m pytest -q $(WEB_TESTS)

lint: bootstrap
	$(BIN)/ruff check .

bootstrap: sysdeps $(BIN)/.installed

# Only calls apt-get when a package is really missing, so a second run costs a dpkg query.
sysdeps:
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	$(PY) -c "import venv, ensurepip" 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The locked versions first, then the project itself without resolving anything again; rebuilt when
# either file changes. `pip check` catches a dependency added to pyproject.toml but not to the lock.
$(BIN)/.installed: pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r $(LOCK)
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	@$(BIN)/pip check -q >/dev/null 2>&1 || { $(BIN)/pip check 2>/dev/null; \
	  echo "$(LOCK) does not satisfy pyproject.toml: run make lock"; exit 1; }
	@touch $@

lock:
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/uv --version 2>/dev/null | grep -q "^uv $(UV_VERSION) " || \
	  $(BIN)/pip install -q --disable-pip-version-check 'uv==$(UV_VERSION)'
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu --custom-compile-command "make lock" -q -o $(LOCK)

clean:
	rm -rf $(VENV) gongu-data build *.egg-info
