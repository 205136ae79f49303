"""Full int8 that keeps the ranking: layers kept in float, chosen by their measured gain per byte.

TFLite's QuantizationDebugger calibrates the scoring graph once; re-quantizing it with
some layers denylisted (``denylisted_nodes``: those ops run in float between QUANTIZE and
DEQUANTIZE, still builtin ops) is cheap. ``--int8_float_layers=auto`` then searches:

1. Sensitivity, measured once: for every quantized layer, the int8 model with that
   layer's output kept in float: the layer and the layers that read it
   (layer_ranking.output_groups; a layer in float alone still hands its output on
   requantized, and on a tiny PEAR neither the softmax nor the score's MatVec alone
   gained anything, while the two together took the Spearman from 0.976 to 0.996). Its
   gain is how much the score's squared error against the float model falls (a finer
   measure of agreement than the Spearman, which one layer barely moves); its cost is
   the bytes it adds to the file (weights stored as float16 by default:
   float16_weights.py).
2. Greedy: candidates in order of gain per byte (ties by name); each is added and the
   Spearman against the float model is measured; it is kept only if the Spearman
   rises (at an equal Spearman, if the squared error falls), else dropped.
3. Stop rule: the Spearman reaches ``--min_spearman``; or no candidate with a positive
   gain is left that fits the size budget; or PATIENCE candidates in a row did not help.

The budget is ``--max_size_mb`` and never more than a float16 file (which keeps the
ranking and is then the smaller file). Float layers do not add up (each adds its own
QUANTIZE/DEQUANTIZE boundary; issue 16), hence a measurement at each step rather than a
prediction from the single-layer gains. ``--int8_float_layers=N`` keeps the N worst
layers by the debugger's error (layer_ranking.py) instead, without a search.

The search runs in a fresh process (the converter leaks memory) and measures on images of
its own (agreement.search_images), not on the export check's held-out images: the check
that follows is a test of the choice, and can fail it.
"""

import json
import os
import sys
import tempfile

import numpy as np
from scipy import stats

from pear_tf import errors
from pear_tf.exporting.agreement import reference_scores, search_images, tflite_scores
from pear_tf.exporting.converter import calibration_dataset, run_job, scoring_converter
from pear_tf.exporting.float16_weights import float32_weights_to_float16
from pear_tf.exporting.layer_ranking import activation_spread, float_model, layer_errors, output_groups, ranked_layers
from pear_tf.inference.tflite import as_input, invoke_seconds

DEBUG_IMAGES = 50  # calibration images the debugger measures each layer's error on
# Consecutive layers that did not help before the search gives up: a bound on its time
# (each try is a re-quantization and a scoring pass), not a tuned constant.
PATIENCE = 10
FLOAT_DTYPES = ("float16", "float32")
SHOWN = 8  # float layers the report names


def greedy_by_gain(groups, measure, target, budget, patience=PATIENCE, progress=print):
    """The search's steps 1-3 (module docstring) over candidate groups of layers.

    Args:
      groups: {candidate name: frozenset of layer (tensor) names kept in float together}.
      measure: frozenset of layers kept in float → dict with ``spearman``, ``mse`` and
        ``bytes`` of that model; called once per set.
      target: the Spearman to reach; budget: the largest file in bytes (None: any).

    Returns:
      (the layers kept in float, in the order added; the steps tried as dicts; why it stopped).
    """
    results = {}

    def measured(layers):
        if layers not in results:
            results[layers] = measure(layers)
        return results[layers]

    base = measured(frozenset())
    if base["spearman"] >= target:
        return [], [], "plain int8 reaches the target"
    budget = float("inf") if budget is None else budget
    every = frozenset().union(*groups.values())
    gain = {}
    for name, group in sorted(groups.items()):
        if len(group) >= len(every):
            continue  # the debugger needs one layer left in int8
        alone = measured(group)
        benefit, cost = base["mse"] - alone["mse"], alone["bytes"] - base["bytes"]
        if benefit > 0 and alone["bytes"] <= budget:
            gain[name] = (benefit / max(cost, 1), cost)
    kept, best, steps, misses = [], base, [], 0
    for name in sorted(gain, key=lambda name: (-gain[name][0], name)):
        layers = frozenset(kept) | groups[name]
        if best["spearman"] >= target or misses >= patience:
            break
        if len(layers) == len(kept) or len(layers) >= len(every) or best["bytes"] + gain[name][1] > budget:
            continue  # already in float, or all of them, or too large by its own cost: not worth a try
        trial = measured(layers)
        helps = trial["bytes"] <= budget and (trial["spearman"], -trial["mse"]) > (best["spearman"], -best["mse"])
        steps.append({"candidate": name, "layers": len(layers), **trial, "kept": helps})
        progress(f"  + {name[-60:]} ({len(groups[name])} layers): Spearman {trial['spearman']:.4f}, "
                 f"{trial['bytes'] / 1e6:.2f} MB" + ("" if helps else " (dropped)"))  # fmt: skip
        if helps:
            kept, best, misses = kept + sorted(layers - frozenset(kept)), trial, 0
        else:
            misses += 1
    if best["spearman"] >= target:
        return kept, steps, "reached the target"
    return kept, steps, (f"{patience} candidates in a row did not help" if misses >= patience
                         else "no candidate left that fits and helps")  # fmt: skip


class Quantizer:
    """Re-quantizes a calibrated debugger's model with given layers in float, and measures it.

    ``measure(layers)`` → ``spearman`` and ``mse`` of the scores against ``reference`` on
    ``images``, and the file's ``bytes``; results are cached, models are not (memory).
    """

    def __init__(self, debugger, images, reference, float_dtype):
        import keras

        self.debugger, self.images, self.reference, self.float_dtype = debugger, images, reference, float_dtype
        self.results = {}
        self.progbar = keras.utils.Progbar(None, unit_name="model")  # a re-quantization and a scoring pass each

    def model(self, layers):
        import tensorflow as tf

        self.debugger.options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=sorted(layers) or None)
        data = self.debugger.get_nondebug_quantized_model()
        if layers and self.float_dtype == "float16":
            data, _ = float32_weights_to_float16(data)
        return data

    def measure(self, layers):
        layers = frozenset(layers)
        if layers not in self.results:
            data = self.model(layers)
            with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
                f.write(data)
                f.flush()
                scores = tflite_scores(f.name, self.images)
            self.results[layers] = {"spearman": float(stats.spearmanr(scores, self.reference)[0]),
                                    "mse": float(np.mean(np.square(scores - self.reference))), "bytes": len(data)}  # fmt: skip
            self.progbar.add(1)
        return self.results[layers]


def _calibrated_debugger(saved_model_dir, input_type, representative):
    import tensorflow as tf

    converter = scoring_converter(saved_model_dir, input_type, int8=True)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = calibration_dataset(representative, input_type)
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=calibration_dataset(representative[:DEBUG_IMAGES], input_type)
    )
    debugger.run()
    return debugger


def search_in_this_process(job, representative, images):
    """The search itself (in the job's process); writes the chosen model, the all-int8 one and a JSON report."""
    input_type, saved_model_dir = job["input_type"], job["saved_model_dir"]
    debugger = _calibrated_debugger(saved_model_dir, input_type, representative)
    float32 = float_model(saved_model_dir, input_type)
    layers = ranked_layers(layer_errors(debugger, activation_spread(float32, input_type, representative[:DEBUG_IMAGES])))
    if input_type == "uint8":
        images = as_input(images, "uint8").astype(np.float32)
    quantizer = Quantizer(debugger, images, reference_scores(saved_model_dir, images), job["float_dtype"])
    # Never larger than a float16 file would be (half the float32 one): that keeps the ranking.
    budget = min(job["max_bytes"] or len(float32), len(float32) // 2)
    if job["float_layers"] == "auto":
        print(f"int8 search: measuring the output of each of {len(layers)} layers kept in float, then adding them "
              f"by gain per byte up to {budget / 1e6:.2f} MB", flush=True)  # fmt: skip
        groups = output_groups(float32, [layer["tensor"] for layer in layers])
        kept, steps, stop = greedy_by_gain(groups, quantizer.measure, job["min_spearman"], budget,
                                           progress=lambda line: print(line, flush=True))  # fmt: skip
    else:
        kept, steps, stop = [layer["tensor"] for layer in layers[: job["float_layers"]]], [], "the named count"
    for name, layer_set in ((job["output"], kept), (job["output"] + ".all_int8", [])):
        with open(name, "wb") as f:
            f.write(quantizer.model(frozenset(layer_set)))
    by_name = {layer["tensor"]: layer for layer in layers}
    final, base = quantizer.measure(kept), quantizer.measure(frozenset())
    # Strict JSON (apps parse it): no NaN.
    named = [{**by_name[n], "relative": by_name[n]["relative"] if np.isfinite(by_name[n]["relative"]) else None}
             for n in kept]  # fmt: skip
    report = {"count": len(kept), "found": final["spearman"] >= job["min_spearman"], "layers": named,
              "total_layers": len(layers), "stop": stop, "float_dtype": job["float_dtype"], "budget_bytes": budget,
              "spearman": {"0": base["spearman"], str(len(kept)): final["spearman"]},
              "steps": [{k: v for k, v in step.items() if k != "mse"} for step in steps],
              "measured_models": len(quantizer.results)}  # fmt: skip
    with open(job["report"], "w") as f:
        json.dump(report, f)


def keep_layers_in_float(saved_model_dir, output, representative, source, image_size, check_images, min_spearman,
                         input_type, float_layers, calibrated, max_bytes=0, float_dtype="float16"):  # fmt: skip
    """Writes an int8 ``output`` with layers kept in float that keep the ranking (see the module docstring).

    Args:
      representative: calibration images [N, S, S, 3]; ``source`` gives the search's own
        images (agreement.search_images: neither the ``calibrated`` first nor the check's;
        twice the check's count, against the noise of a Spearman).
      float_layers: "auto" (the search) or a count of the worst layers kept in float.
      max_bytes: the size budget (0: none but the float16 file's size).
      float_dtype: how the float layers' weights are stored, "float16" or "float32".

    Returns:
      A dict for the file's metadata and the report: ``count``, ``layers`` (the float ones
      in the order added), ``spearman`` (all-int8 and chosen, on the search images),
      ``steps`` and ``stop`` (the search), and the cost against all-int8: ``size_bytes``
      and ``invoke_ms`` of both.
    """
    if float_layers == "auto" and not check_images:
        raise errors.BadValue("--int8_float_layers=auto needs --check_images (the search scores twice as many of its own).")
    images, which = search_images(source, image_size, 2 * (check_images or 10), calibrated, check_images)
    with tempfile.TemporaryDirectory() as scratch:
        report_path = os.path.join(scratch, "report.json")
        run_job({"action": "int8_search", "saved_model_dir": saved_model_dir, "output": output, "report": report_path,
                 "representative": representative, "check_images": images, "input_type": input_type,
                 "float_layers": float_layers, "min_spearman": min_spearman, "max_bytes": max_bytes,
                 "float_dtype": float_dtype}, module="pear_tf.exporting.int8_search")  # fmt: skip
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


def _short(tensor):
    """The last of a fused op's ';'-joined names, at most 60 characters: enough to find it in the metadata."""
    return tensor.split(";")[-1][-60:]


def _print_report(report):
    listed = report["layers"][:SHOWN]
    layers = ", ".join(f"{layer['op']} {_short(layer['tensor'])} (rmse {layer['relative'] or float('nan'):.3f}× its "
                       f"std, {layer['steps']:.2f} steps)" for layer in listed)  # fmt: skip
    if len(report["layers"]) > len(listed):
        layers += f" and {len(report['layers']) - len(listed)} more (every one is in the file's metadata)"
    size, invoke = report["size_bytes"], report["invoke_ms"]
    tried = ", ".join(f"{k}: {v:.4f}" for k, v in report["spearman"].items())
    search = report["search_images"]
    print(f"int8: {report['count']} of {report['total_layers']} quantized layers kept in float"
          f"{': ' + layers if layers else ''}. Spearman by layers in float on {search['count']} search images "
          f"({search['which']}): {tried}" + (f"; stopped: {report['stop']}." if report.get("stop") else ".")
          + ("" if report["found"] else " --min_spearman was not reached; the best is kept."))  # fmt: skip
    print(f"Cost against all-int8: size {size['selected'] / 1e6:.2f} MB vs {size['all_int8'] / 1e6:.2f} MB "
          f"({size['selected'] / size['all_int8']:.2f}×), invoke {invoke['selected']:.3f} ms vs "
          f"{invoke['all_int8']:.3f} ms ({invoke['selected'] / invoke['all_int8']:.2f}×)")  # fmt: skip
    # Weights dominate the file: float16 weights take twice int8's bytes, dynamic range the same.
    if size["selected"] > 2 * size["all_int8"]:
        int8_mb = size["all_int8"] / 1e6
        print(f"With {report['count']} layers in float this file is larger than a float16 file would be (about "
              f"{2 * int8_mb:.0f} MB): --tflite=dynamic (int8 weights, float activations, about {int8_mb:.0f} "
              "MB) or --tflite=float16 usually keeps the ranking in a smaller file.")  # fmt: skip


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        job = json.load(f)
    search_in_this_process(job, np.load(job["representative"]), np.load(job["check_images"]))
