"""Which precision a model computes in: float32, or bfloat16 where the CPU does bfloat16 natively.

``--precision`` (export, predict, beam_score, serve) takes ``float32``, ``bfloat16`` or
``auto``. ``auto`` asks this machine: bfloat16 when TensorFlow's oneDNN kernels are on and
the CPU has native bfloat16 dot products (AMX-BF16 or AVX512-BF16, as Linux reports them in
/proc/cpuinfo), else float32. On a CPU without them TensorFlow emulates bfloat16, slower
than float32, which is why ``auto`` never picks it there.

A model computes in bfloat16 in one of two ways:
- exported so (``pear_tf.export --precision=bfloat16``): the backbone's layers run in bfloat16
  inside the SavedModel's graph, the latents and heads in float32; every client, TF Serving
  included, gets it; the metadata says ``precision: bfloat16``;
- a float32 export scored with ``--precision=bfloat16`` (or ``auto`` on such a CPU):
  ``bfloat16_signatures`` has TensorFlow's oneDNN mixed-precision graph rewrite run the
  convolutions in bfloat16 and keeps the dense layers (latents, heads) and everything after
  them in float32. It is set per call (TensorFlow's thread-local function-call options),
  not process-wide, so float32 and bfloat16 scorers can share a process.
"""

import contextlib
import copy
import os
import platform

from pear_tf.errors import BadValue

PRECISIONS = ("float32", "bfloat16", "auto")
# /proc/cpuinfo flags of native bfloat16 dot products (oneDNN uses them for bf16 matmuls and convolutions).
NATIVE_FLAGS = {"amx_bf16": "AMX-BF16", "avx512_bf16": "AVX512-BF16"}
# oneDNN's ISA cap (ONEDNN_MAX_CPU_ISA) values that still allow native bfloat16.
BF16_ISAS = ("AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX10", "ALL", "DEFAULT")
# Dense layers stay float32 under the runtime rewrite: the heads' outputs keep float32's resolution
# (scores would otherwise come back on bfloat16's grid, 1/32 apart between 4 and 8).
FLOAT32_OPS_ENV = ("TF_AUTO_MIXED_PRECISION_GRAPH_REWRITE_ALLOWLIST_REMOVE", "MatMul,BatchMatMul,BatchMatMulV2")


class PrecisionError(BadValue):
    """A precision that cannot be had (a float32 score asked of a bfloat16 export)."""


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's feature flags as Linux reports them (an empty set elsewhere)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def onednn_enabled():
    """Whether TensorFlow's oneDNN kernels run (x86 Linux wheels: on unless TF_ENABLE_ONEDNN_OPTS=0)."""
    if os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip() in ("0", "false", "False"):
        return False
    from tensorflow.python.util import _pywrap_util_port  # TensorFlow has no public call for this

    return bool(_pywrap_util_port.IsMklEnabled())


def native_bfloat16(flags=None):
    """(True, what) when this machine computes bfloat16 natively, else (False, why not)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False, f"a {platform.machine()} CPU: only x86 (AMX-BF16, AVX512-BF16) is detected"
    if not onednn_enabled():
        return False, "TensorFlow's oneDNN kernels are off (TF_ENABLE_ONEDNN_OPTS=0 or a build without them)"
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    if isa and not isa.startswith(BF16_ISAS):
        return False, f"ONEDNN_MAX_CPU_ISA={isa} keeps oneDNN below its bfloat16 instructions"
    found = [name for flag, name in NATIVE_FLAGS.items() if flag in (cpu_flags() if flags is None else flags)]
    if not found:
        return False, "the CPU has neither AMX-BF16 nor AVX512-BF16"
    return True, f"the CPU has {' and '.join(found)}"


def resolve(precision, flags=None):
    """(``float32`` or ``bfloat16``, the reason) for a --precision value; ``auto`` asks this machine."""
    if precision not in PRECISIONS:
        raise PrecisionError(f"--precision={precision!r}: use one of {', '.join(PRECISIONS)}.")
    if precision != "auto":
        return precision, "asked for"
    native, why = native_bfloat16(flags)
    return ("bfloat16" if native else "float32"), f"auto: {why}"


def model_precision(metadata):
    """What an export computes in, from its metadata (exports before the field were float32)."""
    return metadata.get("precision", "float32")


def scoring_precision(requested, metadata, flags=None):
    """(what to compute in, whether the float32 graph needs the bfloat16 rewrite, a note or None).

    ``requested`` None scores as exported. A bfloat16 export computes in bfloat16 whatever is
    asked: its casts are in the graph. Asking it for float32 raises PrecisionError; ``auto`` on a
    CPU without native bfloat16 scores it anyway, with a note that it runs emulated.
    """
    exported = model_precision(metadata)
    if requested is None:
        return exported, False, None
    wanted, why = resolve(requested, flags)
    if exported == "bfloat16":
        if requested == "float32":
            raise PrecisionError(
                "the model was exported in bfloat16 (its metadata says so) and cannot compute in float32: "
                "score it with --precision=bfloat16 or auto, or export a float32 version "
                "(python -m pear_tf.export --precision=float32)."
            )
        note = None
        if wanted != "bfloat16":
            note = f"NOTE: a bfloat16 export on a CPU without native bfloat16 ({why}) runs emulated, slower than float32."
        return "bfloat16", False, note
    return wanted, wanted == "bfloat16", None


@contextlib.contextmanager
def bfloat16_calls():
    """Function calls in this block (this thread) run through oneDNN's bfloat16 graph rewrite."""
    from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
    from tensorflow.python.eager import context

    os.environ.setdefault(*FLOAT32_OPS_ENV)  # read by the rewrite when it runs, below
    ctx = context.context()
    previous = ctx.function_call_options
    options = copy.copy(previous)
    config = config_pb2.ConfigProto.FromString(previous.config_proto_serialized)
    config.graph_options.rewrite_options.auto_mixed_precision_onednn_bfloat16 = rewriter_config_pb2.RewriterConfig.ON
    options.config_proto_serialized = config
    ctx.function_call_options = options
    try:
        yield
    finally:
        ctx.function_call_options = previous


class Bfloat16Signature:
    """A signature whose calls run under ``bfloat16_calls``; everything else is the signature's."""

    def __init__(self, signature):
        self.signature = signature

    def __call__(self, *args, **kwargs):
        with bfloat16_calls():
            return self.signature(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.signature, name)


def bfloat16_signatures(signatures):
    """{name: Bfloat16Signature} of a float32 SavedModel's signatures: the runtime bfloat16 path."""
    return {name: Bfloat16Signature(signature) for name, signature in signatures.items()}


def scoring_signatures(signatures, metadata, requested, flags=None):
    """(signatures to call, the precision they compute in, a note or None) for ``--precision=requested``."""
    precision, rewrite, note = scoring_precision(requested, metadata, flags)
    return (bfloat16_signatures(signatures) if rewrite else dict(signatures)), precision, note
