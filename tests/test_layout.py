"""The rules the code keeps: no import cycles, no library importing a command or reading flags, small
functions, thin commands that end a user's mistake with its message, and a quiet start."""

import ast
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "pear_tf")
MAX_FUNCTION_LINES = 60
MAX_COMMAND_MAIN_LINES = 30


def _modules():
    """{module name: path} of every module of pear_tf."""
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                module = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".").removesuffix(".__init__")
                found[module] = path
    return found


MODULES = _modules()
TREES = {module: ast.parse(open(path).read()) for module, path in MODULES.items()}


def _imports(module):
    """pear_tf modules that ``module`` imports, function-local imports included."""
    package = module if MODULES[module].endswith("__init__.py") else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name in MODULES and name != module}


def _is_command(module):
    """A command: pear_tf/<name>.py whose __main__ block runs absl's app (as ../shared/tools/import_rules.py says).

    data/build.py, data/service.py and data/synthetic.py are libraries; their ``__main__`` only runs the
    command at the root (build_data, data_service, synthetic_data), so the old ``python -m`` lines work.
    """
    if module.count(".") != 1:
        return False
    for node in TREES[module].body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            return "app.run(" in ast.unparse(node)
    return False


COMMANDS = {module for module in MODULES if _is_command(module)}
GRAPH = {module: _imports(module) for module in MODULES}


def test_the_commands_are_the_documented_ones():
    root_commands = {m.split(".")[1] for m in COMMANDS if m.count(".") == 1}
    assert {"train", "train_prior", "evaluate", "predict", "explain", "export", "serve", "tflite_score",
            "table1", "beam_score", "personalize", "evaluate_personal", "build_data", "data_service",
            "synthetic_data"} <= root_commands  # fmt: skip


def _reads_flags(module):
    """Where ``module`` touches absl flags: imports absl.flags or pear_tf.cli, or names FLAGS."""
    found = []
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.ImportFrom) and node.module == "absl" and "flags" in {a.name for a in node.names}:
            found.append(f"line {node.lineno}: from absl import flags")
        elif isinstance(node, ast.Import) and "absl.flags" in {a.name for a in node.names}:
            found.append(f"line {node.lineno}: import absl.flags")
        elif isinstance(node, (ast.Name, ast.Attribute)) and getattr(node, "id", getattr(node, "attr", "")) == "FLAGS":
            found.append(f"line {node.lineno}: FLAGS")
    if "pear_tf.cli" in GRAPH[module]:
        found.append("imports pear_tf.cli")
    return found


def test_libraries_never_read_flags():
    # Commands parse flags into configs; everything else takes the configs (or arguments).
    # pear_tf.command_line is cli's TensorFlow-free part (parse_flags), which cli re-exports.
    offenders = {m: _reads_flags(m) for m in MODULES if m not in COMMANDS and m not in ("pear_tf.cli", "pear_tf.command_line")}
    assert not {m: where for m, where in offenders.items() if where}, offenders


def test_every_command_ends_a_users_mistake_with_its_message():
    # pear_tf.cli.guard turns pear_tf.errors.UserError into "ERROR: ..." and exit status 2; parse_flags does
    # the same for a bad flag. A command run without them would print a traceback instead.
    for module in sorted(COMMANDS):
        blocks = [n for n in TREES[module].body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
        text = ast.unparse(blocks[0])
        # pear_tf.beam_score takes them from pear_tf.command_line: its launcher starts without TensorFlow.
        shared = "command_line" if module == "pear_tf.beam_score" else "cli"
        assert f"{shared}.guard(main)" in text and f"{shared}.parse_flags" in text, (module, text)


def test_no_library_module_imports_a_command_module():
    offenders = sorted(f"{m} -> {t}" for m in MODULES if m not in COMMANDS for t in GRAPH[m] if t in COMMANDS)
    assert not offenders, offenders


def test_no_import_cycles():
    # A package's __init__ importing its own children is not a cycle of design.
    def edges(module):
        return {t for t in GRAPH[module] if not (t.startswith(module + ".") or module.startswith(t + "."))}

    state = {}

    def visit(module, path):
        state[module] = "open"
        for target in edges(module):
            if state.get(target) == "open":
                pytest.fail("import cycle: " + " -> ".join(path[path.index(target):] + [target]))
            if target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])


def test_library_functions_fit_on_a_screen():
    long = []
    for module, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{module}.{node.name}: {lines} lines")
    assert not long, long


def test_commands_are_thin():
    fat = []
    for module in COMMANDS:
        for node in TREES[module].body:
            if isinstance(node, ast.FunctionDef) and node.name == "main":
                if node.end_lineno - node.lineno + 1 > MAX_COMMAND_MAIN_LINES:
                    fat.append(module)
    assert not fat, fat


def test_the_model_imports_no_data_serving_or_training_code():
    for module in MODULES:
        if module.startswith("pear_tf.model"):
            bad = [t for t in GRAPH[module] if t.startswith(("pear_tf.data", "pear_tf.serving", "pear_tf.training"))]
            assert not bad, (module, bad)
        if module.startswith(("pear_tf.serving", "pear_tf.inference")):
            assert not [t for t in GRAPH[module] if t.startswith("pear_tf.training")], module


def _run(*args):
    quiet = ("TF_CPP_MIN_LOG_LEVEL", "PEAR_TF_STARTUP_LOGS")
    env = {key: value for key, value in os.environ.items() if key not in quiet}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**env, "PYTHONPATH": ROOT}, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_a_data_tool_prints_no_startup_noise(tmp_path):
    result = _run("-m", "pear_tf.data.synthetic", f"--out={tmp_path}", "--count=1", "--image_size=32")
    assert result.returncode == 0, result.stderr[-2000:]
    for noise in ("failed call to cuInit", "absl::InitializeLog", "cudart_stub", "oneDNN custom operations"):
        assert noise not in result.stderr, result.stderr[-2000:]


def test_train_help_lists_its_own_flags_and_no_startup_noise():
    result = _run("-m", "pear_tf.train", "--help")  # absl exits 1 after printing the help
    for flag in ("--data_dir", "--flagfile", "--epochs", "--lambda_recon", "--backbone"):
        assert flag in result.stdout, flag
    assert "Try --helpfull" in result.stdout, result.stderr[-2000:]
    for noise in ("failed call to cuInit", "absl::InitializeLog", "cpu_feature_guard", "oneDNN custom operations"):
        assert noise not in result.stderr, result.stderr[-2000:]


def test_the_start_up_filter_keeps_other_lines():
    code = (
        "import os, sys\n"
        "from pear_tf import startup\n"
        "with startup.quiet_native_startup():\n"
        "    os.write(2, b'W0000 cpu_feature_guard.cc:1] noise\\n')\n"
        "    os.write(2, b'a real warning\\n')\n"
    )
    result = _run("-c", code)
    assert result.returncode == 0, result.stderr
    assert "a real warning" in result.stderr and "cpu_feature_guard" not in result.stderr


def test_every_console_script_runs_a_command_module():
    import configparser

    setup = configparser.ConfigParser()
    setup.read(os.path.join(ROOT, "setup.cfg"))
    scripts = dict(line.split(" = ") for line in setup["options.entry_points"]["console_scripts"].strip().splitlines())
    assert "pear-train" in scripts and "pear-predict" in scripts and "pear-serve" in scripts
    from pear_tf import command_line

    for script, target in scripts.items():
        module, function = target.split(":")
        # command_line, not cli: a console script loads no TensorFlow before its command (Beam's launcher).
        assert module == "pear_tf.command_line" and callable(getattr(command_line, function)), script
        command = f"pear_tf.{function}"
        assert command in COMMANDS, (script, command)
        assert script == "pear-" + function.replace("_", "-"), script


# pear_tf modules a benchmark may import before the quiet start: they load no TensorFlow (checked below).
TF_FREE = ("pear_tf.startup", "pear_tf.data.ava", "pear_tf.command_line", "pear_tf.inference.storage",
           "pear_tf.inference.signatures", "pear_tf.inference.metadata", "pear_tf.inference.beam",
           "pear_tf.data.synthetic", "pear_tf.data.landscapes")
TF_LIBRARIES = ("tensorflow", "keras", "tensorflow_probability", "tf_keras")


def _module_level_imports(tree):
    """(line, module name) of each import statement at a module's top level, in order."""
    for node in tree.body:
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = ([f"{node.module}.{alias.name}" for alias in node.names] if node.module.startswith("pear_tf")
                     else [node.module])  # fmt: skip
            yield from ((node.lineno, name) for name in names)


def _quiet_start_line(tree):
    """The line of the top-level ``startup.import_tensorflow_quietly()`` call, or None."""
    for node in tree.body:
        call = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
        if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "import_tensorflow_quietly":
            return node.lineno
    return None


def test_every_benchmark_starts_tensorflow_quietly():
    """No CUDA probing noise from a benchmark on a CPU machine (issue 25): a script that imports TensorFlow,
    Keras or a pear_tf module that loads them calls startup.import_tensorflow_quietly() before that import."""
    folder = os.path.join(ROOT, "benchmarks")
    siblings = {name[:-3] for name in os.listdir(folder) if name.endswith(".py")}
    late = []
    for name in sorted(siblings):
        tree = ast.parse(open(os.path.join(folder, f"{name}.py")).read())
        quiet = _quiet_start_line(tree)
        for line, module in _module_level_imports(tree):
            loads_tf = module.split(".")[0] in TF_LIBRARIES or module.split(".")[0] in siblings or (
                module.startswith("pear_tf.") and module not in TF_FREE)  # fmt: skip
            if loads_tf and (quiet is None or line < quiet):
                late.append(f"benchmarks/{name}.py:{line} imports {module} before the quiet start")
    assert not late, late
    probe = "import sys, " + ", ".join(TF_FREE) + "; print(sorted(set(sys.modules) & set(" + repr(TF_LIBRARIES) + ")))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr[-2000:]
