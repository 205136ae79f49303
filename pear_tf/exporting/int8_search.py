"""Full int8 that keeps the ranking: the fewest layers kept in float, found by measurement.

TFLite's QuantizationDebugger calibrates the scoring graph once and measures each
layer's int8 error on calibration images. The layers are ranked by that error against
the float activation's spread (rmse / std: see ``ranked_layers``), worst first, and the
model is re-quantized with
the N worst kept in float (the debugger's ``denylisted_nodes``: those ops run in float,
with QUANTIZE/DEQUANTIZE around them, still builtin ops) for N = 0, 1, 2, 4, … until the
agreement bar is reached, then bisected down to the fewest N that reaches it. The search
runs in a fresh process (the converter leaks memory) and chooses N on images of its own
(agreement.search_images), not on the export check's held-out images: the check that
follows is then a test of the choice, not a replay of it, and can fail it.
"""

import csv
import io
import json
import os
import sys
import tempfile

import numpy as np
from scipy import stats

from pear_tf import errors
from pear_tf.exporting.agreement import reference_scores, search_images, tflite_scores
from pear_tf.exporting.converter import calibration_dataset, run_job, scoring_converter
from pear_tf.inference.tflite import as_input, invoke_seconds

DEBUG_IMAGES = 50  # calibration images the debugger measures each layer's error on


def layer_errors(debugger, spread=None):
    """The debugger's layers in graph order: dicts of ``tensor``, ``op``, ``steps`` and ``relative``.

    ``steps`` is the int8 error's rmse over the quantization step (about 0.29 for rounding
    alone); ``relative`` is its rmse over the float activation's std (``spread``: tensor
    name → std), the error against the signal, NaN where the float model has no such tensor.
    """
    buffer = io.StringIO()
    debugger.layer_statistics_dump(buffer)
    layers = []
    for row in csv.DictReader(io.StringIO(buffer.getvalue())):
        scale, rmse = float(row["scale"]), float(row["mean_squared_error"]) ** 0.5
        std = (spread or {}).get(row["tensor_name"], float("nan"))
        layers.append({"tensor": row["tensor_name"], "op": row["op_name"], "steps": rmse / scale if scale else 0.0,
                       "relative": rmse / std if std > 0 else float("nan")})  # fmt: skip
    return layers


def ranked_layers(layers):
    """Worst first: by ``relative`` error, then (where the float model lacks the tensor) by ``steps``.

    Steps alone cannot tell which layers hurt: in a healthy quantization every layer is at
    rounding (0.2-0.3 steps). A layer whose values use a sliver of their int8 range (a
    pooled feature vector, a logit) has a large error against its own spread.
    """
    known = [layer for layer in layers if np.isfinite(layer["relative"])]
    unknown = [layer for layer in layers if not np.isfinite(layer["relative"])]
    return sorted(known, key=lambda layer: -layer["relative"]) + sorted(unknown, key=lambda layer: -layer["steps"])


def activation_spread(saved_model_dir, input_type, images):
    """{tensor name: std of its values} in the float TFLite model over ``images``."""
    import tensorflow as tf

    model = scoring_converter(saved_model_dir, input_type, int8=True).convert()
    interpreter = tf.lite.Interpreter(model_content=model, experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    tensors = [d for d in interpreter.get_tensor_details() if d["dtype"] == np.float32]
    # Over every value of every image: a scalar such as the score has its spread across images.
    moments = {d["name"]: np.zeros(3) for d in tensors}
    for image in images:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], as_input(image, input_type)[np.newaxis])
        interpreter.invoke()
        for d in tensors:
            value = interpreter.get_tensor(d["index"]).astype(np.float64)
            moments[d["name"]] += (value.size, value.sum(), np.square(value).sum())
    return {name: float(max(sq / n - (total / n) ** 2, 0.0)) ** 0.5 for name, (n, total, sq) in moments.items() if n}


def _counts_to_try(passes, total, float_layers):
    """Tries N = 0, 1, 2, 4, … until ``passes(N)``, then bisects to the fewest; returns (N, tries)."""
    if float_layers != "auto":
        count = min(float_layers, total)
        return count, {count: passes(count)}
    tries, failed, count = {}, -1, 0
    while True:
        tries[count] = passes(count)
        if tries[count]:
            break
        if count >= total - 1:  # everything but one layer in float and still not there
            return None, tries
        failed, count = count, min(max(1, 2 * count), total - 1)
    while count - failed > 1:  # the fewest: bisect between the last failure and the first pass
        middle = (failed + count) // 2
        tries[middle] = passes(middle)
        failed, count = (failed, middle) if tries[middle] else (middle, count)
    return count, tries


def search_in_this_process(job, representative, check_images):
    """The search itself (in the job's process); writes the chosen model and a JSON report."""
    import tensorflow as tf

    input_type = job["input_type"]
    converter = scoring_converter(job["saved_model_dir"], input_type, int8=True)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = calibration_dataset(representative, input_type)
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=calibration_dataset(representative[:DEBUG_IMAGES], input_type)
    )
    debugger.run()
    spread = activation_spread(job["saved_model_dir"], input_type, representative[:DEBUG_IMAGES])
    layers = ranked_layers(layer_errors(debugger, spread))
    if input_type == "uint8":
        check_images = as_input(check_images, "uint8").astype(np.float32)
    reference = reference_scores(job["saved_model_dir"], check_images)
    spearman, models = {}, {}

    def passes(count):
        options = tf.lite.experimental.QuantizationDebugOptions(
            denylisted_nodes=[layer["tensor"] for layer in layers[:count]] or None
        )
        debugger.options = options
        models[count] = debugger.get_nondebug_quantized_model()
        with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
            f.write(models[count])
            f.flush()
            spearman[count] = float(stats.spearmanr(tflite_scores(f.name, check_images), reference)[0])
        print(f"int8 with the {count} worst layers in float: Spearman {spearman[count]:.4f}", flush=True)
        return spearman[count] >= job["min_spearman"]

    count, _ = _counts_to_try(passes, len(layers), job["float_layers"])
    chosen = count if count is not None else max(spearman, key=spearman.get)
    with open(job["output"], "wb") as f:
        f.write(models[chosen])
    if 0 not in models:
        passes(0)
    with open(job["output"] + ".all_int8", "wb") as f:
        f.write(models[0])
    # Strict JSON (apps parse it): no NaN.
    named = [{**layer, "relative": layer["relative"] if np.isfinite(layer["relative"]) else None} for layer in layers]
    report = {"count": chosen, "found": count is not None, "layers": named[:chosen], "total_layers": len(layers),
              "spearman": {str(k): v for k, v in sorted(spearman.items())}}  # fmt: skip
    with open(job["report"], "w") as f:
        json.dump(report, f)


def keep_layers_in_float(saved_model_dir, output, representative, source, image_size, check_images, min_spearman,
                         input_type, float_layers, calibrated):  # fmt: skip
    """Writes an int8 ``output`` with the fewest worst layers in float that keeps the ranking.

    Args:
      representative: calibration images [N, S, S, 3]; ``source`` gives the search's own
        images (agreement.search_images: neither the ``calibrated`` first nor the check's).
      float_layers: "auto" (search) or a count of the worst layers kept in float.

    Returns:
      A dict for the file's metadata and the report: ``count``, ``layers`` (the float ones,
      worst first, with their error in quantization steps), ``spearman`` (per count tried),
      and the cost against all-int8: ``size_bytes`` and ``invoke_ms`` of both.
    """
    if float_layers == "auto" and not check_images:
        raise errors.BadValue("--int8_float_layers=auto needs --check_images (the search scores as many of its own).")
    images, which = search_images(source, image_size, check_images or 20, calibrated)
    with tempfile.TemporaryDirectory() as scratch:
        report_path = os.path.join(scratch, "report.json")
        run_job({"action": "int8_search", "saved_model_dir": saved_model_dir, "output": output, "report": report_path,
                 "representative": representative, "check_images": images, "input_type": input_type,
                 "float_layers": float_layers, "min_spearman": min_spearman},
                module="pear_tf.exporting.int8_search")  # fmt: skip
        with open(report_path) as f:
            report = json.load(f)
    report["search_images"] = {"count": len(images), "which": which}
    all_int8 = output + ".all_int8"
    image = as_input(images[0], input_type)
    report["size_bytes"] = {"selected": os.path.getsize(output), "all_int8": os.path.getsize(all_int8)}
    report["invoke_ms"] = {name: 1000 * invoke_seconds(path, image) for name, path in
                           (("selected", output), ("all_int8", all_int8))}  # fmt: skip
    os.remove(all_int8)
    _print_report(report)
    return report


def _print_report(report):
    layers = ", ".join(f"{layer['op']} {layer['tensor']} (rmse {layer['relative'] or float('nan'):.3f}× its std, "
                       f"{layer['steps']:.2f} steps)" for layer in report["layers"])  # fmt: skip
    size, invoke = report["size_bytes"], report["invoke_ms"]
    tried = ", ".join(f"{k}: {v:.4f}" for k, v in report["spearman"].items())
    search = report["search_images"]
    print(f"int8: {report['count']} of {report['total_layers']} quantized layers kept in float"
          f"{': ' + layers if layers else ''}. Spearman by layers in float on {search['count']} search images "
          f"({search['which']}): {tried}."
          + ("" if report["found"] else " No count reached --min_spearman; the best is kept."))  # fmt: skip
    print(f"Cost against all-int8: size {size['selected'] / 2**20:.2f} MiB vs {size['all_int8'] / 2**20:.2f} MiB "
          f"({size['selected'] / size['all_int8']:.2f}×), invoke {invoke['selected']:.3f} ms vs "
          f"{invoke['all_int8']:.3f} ms ({invoke['selected'] / invoke['all_int8']:.2f}×)")  # fmt: skip
    # Weights dominate the file: float16 weights take twice int8's bytes, dynamic range the same.
    if size["selected"] > 2 * size["all_int8"]:
        int8_mib = size["all_int8"] / 2**20
        print(f"With {report['count']} layers in float this file is larger than a float16 file would be (about "
              f"{2 * int8_mib:.0f} MiB): --tflite=dynamic (int8 weights, float activations, about {int8_mib:.0f} "
              "MiB) or --tflite=float16 usually keeps the ranking in a smaller file.")  # fmt: skip


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        job = json.load(f)
    search_in_this_process(job, np.load(job["representative"]), np.load(job["check_images"]))
