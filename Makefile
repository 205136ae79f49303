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
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: install Debian's chromium package (root) for the browser test."; fi; }

demo: venv
	rm -rf $(DEMO_RUN)
	$(BIN)/python -m pear_tf.train --flagfile=pipelines/demo.flags --model_dir=$(DEMO_RUN) --export_dir=$(DEMO_EXPORT)
	$(BIN)/python -m pear_tf.data.synthetic --out=$(DEMO_RUN)/samples --count=1 --image_size=64
	$(BIN)/python -m pear_tf.predict --model=$(DEMO_EXPORT) $(DEMO_RUN)/samples/sample_0.png

test: venv browser
	$(BIN)/python -m pytest

# After a green suite: pin what it ran with.
constraints: venv
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^pear[-_]tf' > $(CONSTRAINTS)

clean:
	rm -rf $(VENV) runs *.egg-info
