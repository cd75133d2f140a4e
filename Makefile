# Two commands do all the set-up on a fresh machine: `make run` and `make test`. Both are plain `pip install` of the
# project: `make run` the base install (the classic engine, bots, playground: no torch, Ray or browsers), `make test`
# every extra the tests exercise (README's "Install" lists what each extra adds).
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
HASH    := $(shell cat pyproject.toml setup.py Makefile | cksum | cut -d' ' -f1)
BASE    := $(VENV)/.installed-base-$(HASH)
FULL    := $(VENV)/.installed-full-$(HASH)

.PHONY: run test install system-test-deps bench clean i18n

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(BASE): | $(VENV)/bin/python
	rm -f $(VENV)/.installed-base-*
	$(PY) -m pip install -q -e .
	touch $@

# One call for all extras, so the [diffusion] extra's torch pin holds for every package (see DESIGN.md).
$(FULL): | $(VENV)/bin/python
	rm -f $(VENV)/.installed-full-* $(VENV)/.installed-base-*
	$(PY) -m pip install -q -e '.[diffusion,scale,hosted,test]'
	touch $@ $(BASE)

install: $(BASE)

run: $(BASE)
	$(VENV)/bin/minime serve

# Debian's chromium (browser test) and tesseract (OCR of the typeset names); installed when missing and possible.
system-test-deps:
	@command -v chromium >/dev/null && command -v tesseract >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium tesseract-ocr >/dev/null) \
	    || echo "note: chromium/tesseract not installed; the tests that need them will say so and skip"; }

test: $(FULL) system-test-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n auto --maxprocesses 4 --dist loadfile

bench: $(FULL)
	$(PY) bench/classic_themes.py
	$(PY) bench/core_overhead.py
	$(PY) bench/telegram_roundtrip.py
	$(PY) bench/ray_scale.py
	$(PY) bench/verify_marks.py

clean:
	rm -rf $(VENV) minime-data .pytest_cache

# After adding or changing user-facing texts: extract them, merge them into every language's catalogue (new ones
# arrive untranslated: tests/test_i18n.py fails until a translator fills them in), and compile the .mo files.
BABEL := $(VENV)/bin/pybabel
i18n: $(BASE)
	$(BABEL) extract -F babel.cfg --add-location=file --sort-output --no-wrap -o core/locales/minime.pot \
	  --project=minime --copyright-holder="minime authors" .
	$(BABEL) update -i core/locales/minime.pot -d core/locales -D minime --no-fuzzy-matching \
	  --ignore-pot-creation-date --no-wrap
	$(BABEL) compile -d core/locales -D minime --statistics
