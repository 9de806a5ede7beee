# Two entry points for a fresh Debian machine with Python 3.11: `make demo` and `make test`.
# Both bootstrap what is missing (Debian packages, .venv, the project) and are quick when done.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# fonts-noto-cjk: the report fonts; pango: WeasyPrint's text layout; harfbuzz-subset: fast CJK
# font subsetting (~25x faster than fontTools); poppler-utils: tests read PDFs with pdftotext/pdffonts.
APT_PKGS := fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint sysdeps bootstrap clean

demo: bootstrap
	$(BIN)/gongu demo

test: bootstrap
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

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

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

clean:
	rm -rf $(VENV) gongu-data build *.egg-info
