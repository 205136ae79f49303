# The README's two commands: `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_RUN := runs/demo
DEMO_EXPORT := savedmodels/demo
# The exact versions the test suite last passed with (regenerate: make constraints).
CONSTRAINTS := constraints.txt
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test venv browser constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-installs when the package's requirements change.
$(VENV)/.installed: setup.cfg pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# The serving page's test drives Debian's Chromium (Playwright's own browser download cannot work here).
# As root it is installed with apt (retried: a mirror can fail once); otherwise install the chromium
# package yourself. Under CI=true a browser still missing fails here, as its test would.
CHROMIUM := /usr/bin/chromium
browser:
	@[ -x $(CHROMIUM) ] || [ "$$(id -u)" != 0 ] || for try in 1 2 3; do \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && break; \
	  echo "apt-get install chromium failed (try $$try of 3)"; sleep 10; \
	done
	@[ -x $(CHROMIUM) ] || { echo "Chromium is missing at $(CHROMIUM): install Debian's chromium package (as root)."; \
	  [ "$$CI" != true ]; }

demo: venv
	rm -rf $(DEMO_RUN)
	$(BIN)/python -m pear_tf.train --flagfile=pipelines/demo.flags --model_dir=$(DEMO_RUN) --export_dir=$(DEMO_EXPORT)
	$(BIN)/python -m pear_tf.data.synthetic --out=$(DEMO_RUN)/samples --count=1 --image_size=64
	$(BIN)/python -m pear_tf.predict --model=$(DEMO_EXPORT) $(DEMO_RUN)/samples/sample_0.png

# Two pytest workers (pytest-xdist), one test file each at a time: module fixtures are built once, and
# a file's many small TensorFlow steps (single-threaded Python) overlap the other's (BUILD_NOTES: Test suite).
TEST_WORKERS ?= 2
test: venv browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# After a green suite: pin what it ran with.
constraints: venv
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^pear[-_]tf' > $(CONSTRAINTS)

clean:
	rm -rf $(VENV) runs *.egg-info
