# The README's two commands: `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_RUN := runs/demo
DEMO_EXPORT := savedmodels/demo
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-installs when the package's requirements change.
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	rm -rf $(DEMO_RUN)
	$(BIN)/python -m pear_tf.train --flagfile=pipelines/demo.flags --model_dir=$(DEMO_RUN) --export_dir=$(DEMO_EXPORT)
	$(BIN)/python -m pear_tf.data.synthetic --out=$(DEMO_RUN)/samples --count=1 --image_size=64
	$(BIN)/python -m pear_tf.predict --model=$(DEMO_EXPORT) $(DEMO_RUN)/samples/sample_0.png

test: venv
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) runs *.egg-info
