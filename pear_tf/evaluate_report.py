"""Scoring a split with a SavedModel or a run folder, and writing the report.

``evaluate(model_path, data_config, split, ...)`` is what ``python -m pear_tf.evaluate``
runs: the DESIGN.md §3 metrics (the keys of a run's eval_metrics.json, at the top
level), the attribute correlation difference where the split has attributes, optional
bootstrap intervals, a markdown summary and two figures (predicted against true mean
scores; the histograms of both).
"""

import json
import os

import numpy as np
import tensorflow as tf

from pear_tf import analysis, evaluate_lib, metrics
from pear_tf.data import pipeline, sources
from pear_tf.data.images import SkipLog
from pear_tf.versions import METADATA_FILE, latest_version_dir

REPORTED = ("accuracy", "srcc", "plcc", "emd_r1", "emd_r2", "attribute_corr_diff")


def load_scorer(model_path):
    """A scoring function images → outputs, from a SavedModel or a training run folder.

    Args:
      model_path: a SavedModel version, a model base folder (its latest version), or a
        pear_tf.train model_dir (its latest checkpoint).

    Returns:
      (score, description): ``score`` maps preprocessed images [B, S, S, 3] to a dict of
      tensors (score, distribution and, for PEAR, attributes); ``description`` has
      ``kind``, ``path``, ``image_size`` and ``objective``.
    """
    if os.path.exists(os.path.join(model_path, "model_config.json")):
        from pear_tf import export_lib  # a run folder: rebuild the model from its checkpoint

        model, checkpoint = export_lib.restore_model(model_path)
        score = evaluate_lib.scoring_function(model)
        return score, {
            "kind": "checkpoint",
            "path": checkpoint,
            "image_size": model.config.image_size,
            "objective": model.config.objective,
            "bin_values": list(model.config.bin_values),
        }
    path = latest_version_dir(model_path)
    signature = tf.saved_model.load(path).signatures["predict_images"]
    with open(os.path.join(path, "assets", METADATA_FILE)) as f:
        metadata = json.load(f)
    return (lambda images: signature(images=images)), {
        "kind": "saved_model",
        "path": path,
        "image_size": metadata["model_config"]["image_size"],
        "objective": metadata.get("objective", "pear"),
        "bin_values": list(metadata["bin_values"]),
    }


def evaluate(model_path, data_config, split="test", batch_size=64, bootstrap=0, verbose=1):
    """Scores ``split`` of the data set with the model; returns (report, predictions)."""
    score, description = load_scorer(model_path)
    if split not in ("train", "validation", "test"):
        raise ValueError(f"--split={split!r}: expected train, validation or test.")
    splits = sources.load_splits(data_config, description["image_size"])
    if list(splits.scale.bin_values) != description["bin_values"]:
        raise ValueError(
            f"{model_path} rates on the bins {description['bin_values']}, but --dataset={data_config.dataset} "
            f"uses {list(splits.scale.bin_values)}: evaluate a model on the data set (scale) it was trained for."
        )
    skip_log = SkipLog(splits.dropped)
    dataset = pipeline.make_dataset(getattr(splits, split), description["image_size"], batch_size, skip_log=skip_log)
    predictions = evaluate_lib.predict_dataset(None, dataset, verbose=verbose, score=score)
    report = metrics.aesthetic_metrics(predictions["true_distribution"], predictions["distribution"], splits.scale)
    attributes = analysis.attribute_report(predictions, splits.scale, splits.attributes_known)
    if attributes is not None:
        report.update(analysis.report_metrics(attributes))
    if bootstrap:
        report["bootstrap"] = evaluate_lib.bootstrap_intervals(
            predictions["true_distribution"], predictions["distribution"], splits.scale, bootstrap
        )
    report["skipped_images"] = [{"path": p, "reason": r} for p, r in skip_log.items()]
    report["evaluated"] = {
        "model": description,
        "dataset": data_config.dataset,
        "data_dir": data_config.data_dir,
        "split": split,
        "bin_values": list(splits.scale.bin_values),
        "threshold": splits.scale.threshold,
    }
    return report, predictions


def markdown_summary(report):
    """The report's headline figures as a markdown table (with 95% intervals if bootstrapped)."""
    evaluated = report["evaluated"]
    lines = [
        f"# Evaluation of {evaluated['model']['path']}",
        "",
        f"{evaluated['dataset']} `{evaluated['split']}` split, {report['num_images']} images "
        f"({len(report['skipped_images'])} unreadable, skipped); bins {evaluated['bin_values']}, "
        f"high = mean score > {evaluated['threshold']}.",
        "",
        "| metric | value |" + (" 95% interval |" if "bootstrap" in report else ""),
        "|---|---|" + ("---|" if "bootstrap" in report else ""),
    ]
    for key in REPORTED:
        if key not in report:
            continue
        value = report[key]
        row = f"| {key} | {value:.4f} |" if value is not None and np.isfinite(value) else f"| {key} | n/a |"
        if "bootstrap" in report:
            interval = report["bootstrap"].get(key)
            row += f" {interval['low']:.4f} – {interval['high']:.4f} |" if interval else " |"
        lines.append(row)
    return "\n".join(lines) + "\n"


def plot_scores(predictions, bin_values, srcc, scatter_path, histogram_path):
    """Predicted against true mean scores, and the histograms of both, as PNGs."""
    import matplotlib.pyplot as plt  # analysis has selected the Agg backend

    true = metrics.mean_scores(predictions["true_distribution"], bin_values)
    predicted = metrics.mean_scores(predictions["distribution"], bin_values)
    low, high = float(bin_values[0]), float(bin_values[-1])
    figure, axis = plt.subplots(figsize=(6, 6), constrained_layout=True)
    axis.scatter(true, predicted, s=6, alpha=0.5)
    axis.plot([low, high], [low, high], color="grey", linewidth=1)
    axis.set(xlabel="true mean score", ylabel="predicted mean score", xlim=(low, high), ylim=(low, high))
    axis.set_title(f"SRCC {srcc:.3f} on {len(true)} images")
    figure.savefig(scatter_path, dpi=100)
    plt.close(figure)
    figure, axis = plt.subplots(figsize=(7, 4), constrained_layout=True)
    edges = np.linspace(low, high, 41)
    axis.hist(true, bins=edges, alpha=0.6, label="true")
    axis.hist(predicted, bins=edges, alpha=0.6, label="predicted")
    axis.set(xlabel="mean score", ylabel="images")
    axis.legend()
    figure.savefig(histogram_path, dpi=100)
    plt.close(figure)


def write_report(report, predictions, output):
    """Writes ``output`` (JSON), the markdown summary and the two PNGs beside it; returns their paths."""
    stem = os.path.splitext(output)[0]
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    paths = {"json": output, "markdown": stem + ".md", "scatter": stem + "_scatter.png"}
    paths["histogram"] = stem + "_histogram.png"
    with open(output, "w") as f:
        json.dump(metrics.json_safe(report), f, indent=2, sort_keys=True)
    with open(paths["markdown"], "w") as f:
        f.write(markdown_summary(report))
    plot_scores(predictions, report["evaluated"]["bin_values"], report["srcc"], paths["scatter"], paths["histogram"])
    return paths
