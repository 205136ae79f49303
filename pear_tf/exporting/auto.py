"""``--tflite=auto``: the smallest .tflite file that passes the export's acceptance, and why.

Tried, each converted from the same calibration and checked on the same held-out images:
``int8``, ``int16x8``, ``dynamic``, ``float16`` and ``float32``; then, when none of the
quantized ones passes in a file smaller than the smallest that does, ``int8+float``: int8
with layers kept in float by the gain search (int8_search.py), within the budget and
smaller than that file. A file passes when:

- its Spearman against the SavedModel on the held-out images is ≥ ``min_spearman``;
- it is no larger than the size budget (if any);
- given a labelled set, it loses at most ``max_srcc_drop`` of the float model's SRCC;
- a quantized file is at most ``max_slowdown`` (``--max_slowdown``, 1.5) times as slow
  as the float32 one, with 1 thread and with 2 (``invoke()`` medians, side by side): a
  file that fell off the delegate's fast kernels is not a phone model, whatever its
  size (int16x8 on XNNPACK: 15-22x). Dynamic range's hybrid kernels sit near float's
  speed (on an idle machine 0.89-0.93x with 1 thread, 1.14-1.19x with 2, MobileNetV3-Large
  and EfficientNet-B0 at 96 px): a size budget that float cannot meet may take them;
  ``--max_slowdown=1`` asks for nothing slower than float32.

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
from pear_tf.inference.metadata import read_metadata
from pear_tf.inference.tflite import as_input, interleaved_invoke_ms

FIXED = ("int8", "int16x8", "dynamic", "float16", "float32")
SEARCHED = "int8+float"
FLOAT = ("float16", "float32")  # the float files: never "slower than float"
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
        return (f"  {self.name:<10} {self.bytes / 1e6:8.2f} {self.spearman:9.4f} {drop:>8} "
                f"{self.invoke_ms:8.3f} {self.slowdown:8.2f}×  {verdict}")  # fmt: skip

    def summary(self):
        return {"variant": self.name, "bytes": self.bytes, "spearman": self.spearman, "srcc": self.srcc,
                "srcc_drop": self.srcc_drop, "invoke_ms": self.invoke_ms, "slowdown": self.slowdown,
                "passes": not self.reasons,
                "reasons": list(self.reasons)}  # fmt: skip


def export_auto(path, output, images, acceptance, input_type, float_dtype, dropped=()):
    """Writes the smallest passing variant to ``output``; returns (output, its agreement dict).

    ``images``: tflite.Images (calibration and check images); ``acceptance``: tflite.Acceptance;
    ``dropped``: outputs no file has (``--notflite_photo_likeness``).
    """
    if images.check is None:
        raise errors.BadValue("--tflite=auto needs --check_images (it chooses on the check's agreement).")
    checked = as_input(images.check, "uint8").astype(np.float32) if input_type == "uint8" else images.check
    reference = reference_scores(path, checked)
    with tempfile.TemporaryDirectory() as scratch:
        candidates = _convert(path, scratch, images, input_type, dropped)
        ratings = _judge(path, candidates, images, acceptance, reference, candidates[-1])
        searched = _search(path, scratch, candidates, images, acceptance, input_type, float_dtype)
        if searched is not None:
            _judge(path, [searched], images, acceptance, reference, candidates[-1])
            candidates.insert(-2, searched)
        picked, why = _pick(candidates)
        _print_table(candidates, images, ratings, picked, why)
        if picked is None:
            hint = _lean_hint(candidates, set(read_metadata(path).get("outputs", ())) - set(dropped))
            raise AutoError(f"{output} was not written: no variant passes ({why}).{hint}")
        shutil.copyfile(picked.path, output)
    variant = "int8" if picked.name == SEARCHED else picked.name
    result = {**agreement(path, output, checked, reference), "held_out": images.held_out, "source": str(images.source)}
    extra = {**images.calibration_metadata(), "auto": {"picked": picked.name, "why": why,
                                                       "tried": [c.summary() for c in candidates]}}  # fmt: skip
    if ratings:
        extra["ratings"] = {**ratings, "srcc": picked.srcc, "srcc_drop": picked.srcc_drop}
    tflite_metadata.embed_saved_model_metadata(output, path, variant, input_type, float_layers=picked.float_layers,
                                               agreement=result, extra=extra)  # fmt: skip
    print(f"Wrote {output} ({os.path.getsize(output) / 1e6:.2f} MB, {picked.name}, {input_type} input) from {path}")
    return output, result


def _convert(path, scratch, images, input_type, dropped=()):
    """The FIXED variants, converted by one process; if that fails, one process each.

    A variant the converter refuses is a candidate that fails (its reason is the converter's
    last line); float32 must convert, being every other file's reference.
    """
    candidates = [Candidate(name, os.path.join(scratch, f"{name}.tflite")) for name in FIXED]
    print(f"--tflite=auto: converting {', '.join(FIXED)}", flush=True)
    try:
        convert_in_subprocess(path, ",".join(FIXED), ",".join(c.path for c in candidates), images.calibration,
                              input_type, drop_outputs=dropped)  # fmt: skip
        return candidates
    except RuntimeError:
        print("--tflite=auto: a variant failed to convert; converting each alone", flush=True)
    for candidate in candidates:
        try:
            convert_in_subprocess(path, candidate.name, candidate.path, images.calibration, input_type,
                                  drop_outputs=dropped)  # fmt: skip
        except RuntimeError as error:
            if candidate.name == "float32":
                raise
            last = str(error).strip().splitlines()[-1].strip()
            candidate.reasons.append(f"conversion failed: {last}")
            print(f"  {candidate.name}: conversion failed: {last}", flush=True)
    return candidates


def _judge(path, candidates, images, acceptance, reference, float32):
    """Measures each candidate's size, agreement, ratings and speed (beside ``float32``), and its reasons to fail.

    Returns the ratings' summary (None without a labelled set).
    """
    candidates = [c for c in candidates if os.path.exists(c.path) and _runs(c, path, images, reference)]
    for candidate in candidates:
        if not candidate.spearman >= acceptance.min_spearman:
            candidate.reasons.append(f"Spearman < --min_spearman={acceptance.min_spearman}")
        if acceptance.max_bytes and candidate.bytes > acceptance.max_bytes:
            candidate.reasons.append(f"over --max_size_mb={acceptance.max_bytes / 1e6:g}")
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
    reject_slow(candidates, acceptance.max_slowdown)
    return summary


def _runs(candidate, path, images, reference):
    """Measures the candidate's size and agreement; False (and why) when LiteRT cannot run it."""
    candidate.bytes = os.path.getsize(candidate.path)
    try:
        candidate.spearman = agreement(path, candidate.path, images.check, reference)["spearman"]
    except RuntimeError as error:  # a kernel the converter emitted but LiteRT cannot invoke
        if candidate.name == "float32":
            raise
        candidate.reasons.append(f"LiteRT cannot run it: {str(error).strip().splitlines()[-1]}")
        return False
    return True


def reject_slow(candidates, max_slowdown):
    """Adds a reason to each quantized candidate whose slowdown against float32 exceeds ``max_slowdown``."""
    for candidate in candidates:
        if candidate.name not in FLOAT and candidate.slowdown > max_slowdown:
            candidate.reasons.append(f"over --max_slowdown={max_slowdown:g} × float32: not a phone model")


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
    if not os.path.exists(by_name["int8"].path) or not by_name["int8"].bytes:  # int8 did not convert or run
        return None
    budget = min(acceptance.max_bytes or float("inf"), (smallest or float("inf")) - 1)
    print(f"--tflite=auto: int8 with float layers, smaller than {budget / 1e6:.2f} MB", flush=True)
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
    smaller = [c for c in candidates if 0 < c.bytes < picked.bytes]
    return picked, (f"the smallest of the {len(passing)} files that pass"
                    + (f"; the smaller ones fail: {', '.join(c.name for c in smaller)}" if smaller else ""))  # fmt: skip


def _lean_hint(candidates, outputs):
    """A pointer to --notflite_photo_likeness where files with the photo-likeness ``outputs`` were too big alone."""
    size_only = [c for c in candidates if c.reasons and all(r.startswith("over --max_size_mb") for r in c.reasons)]
    if not size_only or not set(tflite_metadata.PHOTO_LIKENESS_OUTPUTS) & set(outputs):
        return ""
    return (f" {', '.join(c.name for c in size_only)} failed on size alone: --notflite_photo_likeness leaves out "
            f"{' and '.join(tflite_metadata.PHOTO_LIKENESS_OUTPUTS)} and their density (a few MB on small backbones).")


def _print_table(candidates, images, ratings, picked, why):
    ratings = ratings and (f"; ΔSRCC: against the {ratings['against']} of {ratings['images']} images of "
                           f"{ratings['eval_data']}, float model {ratings['float_srcc']:.4f}")  # fmt: skip
    print(f"--tflite=auto tried (Spearman against the SavedModel on {len(images.check)} {images.held_out} images of "
          f"{images.source}{ratings or ''}; invoke: median ms with 1 thread, and the larger of the 1- and 2-thread "
          "ratios to float32):")
    print(f"  {'variant':<10} {'MB':>8} {'Spearman':>9} {'ΔSRCC':>8} {'invoke':>8} {'×float32':>9}  verdict")
    for candidate in candidates:
        print(candidate.row())
    print(f"Picked {picked.name}: {why}." if picked else f"Nothing picked: {why}.")
