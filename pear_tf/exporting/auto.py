"""``--tflite=auto``: the smallest .tflite file that passes the export's acceptance, and why.

Tried, each converted from the same calibration and checked on the same held-out images:
``int8``, ``int16x8``, ``dynamic``, ``float16`` and ``float32``; then, when none of the
quantized ones passes in a file smaller than the smallest that does, ``int8+float``: int8
with layers kept in float by the gain search (int8_search.py), within the budget and
smaller than that file. A file passes when:

- its Spearman against the SavedModel on the held-out images is ≥ ``min_spearman``;
- it is no larger than the size budget (if any);
- given a labelled set, it loses at most ``max_srcc_drop`` of the float model's SRCC;
- a quantized file is not slower than the float32 one, with 1 thread or with 2
  (``invoke()`` medians, side by side; SLOWER_THAN_FLOAT allows for timing noise): a
  file slower than float is not a phone model, whatever its size. (Dynamic range is
  the case in point: on EfficientNet-B0 it was faster than float32 with one thread and
  slower with two, issue 16.)

The smallest passing file is written with what was tried in its metadata; when none
passes, nothing is written and the table says why (AutoError: exit 1).
"""

import dataclasses
import os
import shutil
import tempfile

import numpy as np

from pear_tf import errors
from pear_tf.exporting import tflite_metadata
from pear_tf.exporting.agreement import AgreementError, agreement, reference_scores
from pear_tf.exporting.converter import convert_in_subprocess
from pear_tf.exporting.int8_search import keep_layers_in_float
from pear_tf.exporting.ratings import ratings_srcc, srcc_drop
from pear_tf.inference.tflite import as_input, interleaved_invoke_ms

FIXED = ("int8", "int16x8", "dynamic", "float16", "float32")
SEARCHED = "int8+float"
FLOAT = ("float16", "float32")  # the float files: never "slower than float"
SLOWER_THAN_FLOAT = 1.1  # a quantized file this much slower than float32 is rejected (timing noise below it)
THREADS = (1, 2)


class AutoError(AgreementError):
    """No variant passes the acceptance; nothing was written."""


@dataclasses.dataclass
class Candidate:
    """One file --tflite=auto tried, and what it measured."""

    name: str
    path: str
    bytes: int = 0
    spearman: float = float("nan")
    srcc: object = None
    srcc_drop: object = None
    invoke_ms: float = float("nan")  # 1 thread
    slowdown: float = float("nan")  # the larger of its 1- and 2-thread ratios to float32
    reasons: list = dataclasses.field(default_factory=list)
    float_layers: object = None

    def row(self):
        drop = "" if self.srcc_drop is None else f"{-self.srcc_drop:+.4f}"
        verdict = "; ".join(self.reasons) or "passes"
        return (f"  {self.name:<10} {self.bytes / 2**20:8.2f} {self.spearman:9.4f} {drop:>8} "
                f"{self.invoke_ms:8.3f} {self.slowdown:8.2f}×  {verdict}")  # fmt: skip

    def summary(self):
        return {"variant": self.name, "bytes": self.bytes, "spearman": self.spearman, "srcc": self.srcc,
                "srcc_drop": self.srcc_drop, "invoke_ms": self.invoke_ms, "slowdown": self.slowdown,
                "passes": not self.reasons,
                "reasons": list(self.reasons)}  # fmt: skip


def export_auto(path, output, images, acceptance, input_type, float_dtype):
    """Writes the smallest passing variant to ``output``; returns (output, its agreement dict).

    ``images``: tflite.Images (calibration and check images); ``acceptance``: tflite.Acceptance.
    """
    if images.check is None:
        raise errors.BadValue("--tflite=auto needs --check_images (it chooses on the check's agreement).")
    checked = as_input(images.check, "uint8").astype(np.float32) if input_type == "uint8" else images.check
    reference = reference_scores(path, checked)
    with tempfile.TemporaryDirectory() as scratch:
        candidates = _convert(path, scratch, images, input_type)
        ratings = _judge(path, candidates, images, acceptance, reference, candidates[-1])
        searched = _search(path, scratch, candidates, images, acceptance, input_type, float_dtype)
        if searched is not None:
            _judge(path, [searched], images, acceptance, reference, candidates[-1])
            candidates.insert(-2, searched)
        picked, why = _pick(candidates)
        _print_table(candidates, images, ratings, picked, why)
        if picked is None:
            raise AutoError(f"{output} was not written: no variant passes ({why}).")
        shutil.copyfile(picked.path, output)
    variant = "int8" if picked.name == SEARCHED else picked.name
    result = {**agreement(path, output, checked, reference), "held_out": images.held_out, "source": str(images.source)}
    extra = {**images.calibration_metadata(), "auto": {"picked": picked.name, "why": why,
                                                       "tried": [c.summary() for c in candidates]}}  # fmt: skip
    if ratings:
        extra["ratings"] = {**ratings, "srcc": picked.srcc, "srcc_drop": picked.srcc_drop}
    tflite_metadata.embed_saved_model_metadata(output, path, variant, input_type, float_layers=picked.float_layers,
                                               agreement=result, extra=extra)  # fmt: skip
    print(f"Wrote {output} ({os.path.getsize(output) / 2**20:.2f} MiB, {picked.name}, {input_type} input) from {path}")
    return output, result


def _convert(path, scratch, images, input_type):
    """The FIXED variants, converted by one process."""
    candidates = [Candidate(name, os.path.join(scratch, f"{name}.tflite")) for name in FIXED]
    print(f"--tflite=auto: converting {', '.join(FIXED)}", flush=True)
    convert_in_subprocess(path, ",".join(FIXED), ",".join(c.path for c in candidates), images.calibration, input_type)
    return candidates


def _judge(path, candidates, images, acceptance, reference, float32):
    """Measures each candidate's size, agreement, ratings and speed (beside ``float32``), and its reasons to fail.

    Returns the ratings' summary (None without a labelled set).
    """
    for candidate in candidates:
        candidate.bytes = os.path.getsize(candidate.path)
        candidate.spearman = agreement(path, candidate.path, images.check, reference)["spearman"]
        if not candidate.spearman >= acceptance.min_spearman:
            candidate.reasons.append(f"Spearman < --min_spearman={acceptance.min_spearman}")
        if acceptance.max_bytes and candidate.bytes > acceptance.max_bytes:
            candidate.reasons.append(f"over --max_size_mb={acceptance.max_bytes / 2**20:g}")
    summary = None
    if acceptance.labelled is not None:
        result = ratings_srcc(path, {c.name: c.path for c in candidates}, acceptance.labelled, images.size)
        summary = {key: result[key] for key in ("eval_data", "images", "skipped", "against")}
        summary["float_srcc"] = result["srcc"]["float"]
        for candidate in candidates:
            candidate.srcc, candidate.srcc_drop = result["srcc"][candidate.name], srcc_drop(result, candidate.name)
            if not candidate.srcc_drop <= acceptance.max_srcc_drop:
                candidate.reasons.append(f"loses more than --max_srcc_drop={acceptance.max_srcc_drop} SRCC")
    timed = {c.name: c for c in [*candidates, float32]}
    files = {name: (c.path, as_input(images.check[0], _input_type(c.path))) for name, c in timed.items()}
    times = interleaved_invoke_ms(files, rounds=5, repeats=10, threads=THREADS)
    # float32 is timed again beside a later candidate only as its reference: its row keeps its first time.
    for candidate in candidates:
        candidate.invoke_ms = times[(candidate.name, 1)]
        candidate.slowdown = max(times[(candidate.name, n)] / times[(float32.name, n)] for n in THREADS)
    for candidate in candidates:
        if candidate.name not in FLOAT and candidate.slowdown > SLOWER_THAN_FLOAT:
            candidate.reasons.append("slower than float32: not a phone model")
    return summary


def _input_type(path):
    from pear_tf.inference.tflite import TFLiteScorer

    return TFLiteScorer(path).input_type


def _search(path, scratch, candidates, images, acceptance, input_type, float_dtype):
    """int8 with float layers, when it could be the smallest passing file; else None."""
    by_name = {c.name: c for c in candidates}
    passing = [c for c in candidates if not c.reasons]
    smallest = min((c.bytes for c in passing), default=None)
    if not by_name["int8"].reasons or (smallest is not None and smallest <= by_name["int8"].bytes):
        return None
    budget = min(acceptance.max_bytes or float("inf"), (smallest or float("inf")) - 1)
    print(f"--tflite=auto: int8 with float layers, smaller than {budget / 2**20:.2f} MiB", flush=True)
    candidate = Candidate(SEARCHED, os.path.join(scratch, f"{SEARCHED}.tflite"))
    candidate.float_layers = keep_layers_in_float(
        path, candidate.path, images.calibration, images.source, images.size, len(images.check),
        acceptance.min_spearman, input_type, "auto", len(images.calibration),
        0 if budget == float("inf") else int(budget), float_dtype,
    )  # fmt: skip
    tflite_metadata.embed_saved_model_metadata(candidate.path, path, "int8", input_type,
                                               float_layers=candidate.float_layers)  # fmt: skip
    return candidate


def _pick(candidates):
    """(the smallest passing candidate or None, why in words)."""
    passing = sorted((c for c in candidates if not c.reasons), key=lambda c: (c.bytes, FIXED.index(c.name)
                                                                              if c.name in FIXED else -1))  # fmt: skip
    if not passing:
        return None, "every variant fails a condition: see the table"
    picked = passing[0]
    smaller = [c for c in candidates if c.bytes < picked.bytes]
    return picked, (f"the smallest of the {len(passing)} files that pass"
                    + (f"; the smaller ones fail: {', '.join(c.name for c in smaller)}" if smaller else ""))  # fmt: skip


def _print_table(candidates, images, ratings, picked, why):
    ratings = ratings and (f"; ΔSRCC: against the {ratings['against']} of {ratings['images']} images of "
                           f"{ratings['eval_data']}, float model {ratings['float_srcc']:.4f}")  # fmt: skip
    print(f"--tflite=auto tried (Spearman against the SavedModel on {len(images.check)} {images.held_out} images of "
          f"{images.source}{ratings or ''}; invoke: median ms with 1 thread, and the larger of the 1- and 2-thread "
          "ratios to float32):")
    print(f"  {'variant':<10} {'MiB':>8} {'Spearman':>9} {'ΔSRCC':>8} {'invoke':>8} {'×float32':>9}  verdict")
    for candidate in candidates:
        print(candidate.row())
    print(f"Picked {picked.name}: {why}." if picked else f"Nothing picked: {why}.")
