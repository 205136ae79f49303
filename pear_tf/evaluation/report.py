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

from pear_tf import errors, metrics
from pear_tf.data import pipeline, sources
from pear_tf.data.images import SkipLog
from pear_tf.evaluation import analysis, scoring
from pear_tf.evaluation.bootstrap import bootstrap_intervals
from pear_tf.inference.metadata import demo_warning
from pear_tf.inference.saved_model import SavedModelScorer

REPORTED = ("accuracy", "srcc", "plcc", "emd_r1", "emd_r2", "attribute_corr_diff", "attribute_corr_diff_offdiag")


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
        from pear_tf.exporting.saved_model import restore_model  # a run folder: rebuild it from its checkpoint

        model, checkpoint = restore_model(model_path)
        return scoring.scoring_function(model), {
            "kind": "checkpoint",
            "path": checkpoint,
            "image_size": model.config.image_size,
            "objective": model.config.objective,
            "bin_values": list(model.config.bin_values),
        }
    scorer = SavedModelScorer(model_path)
    warning = demo_warning(scorer.metadata)
    if warning:
        print(warning)
    return scorer.score_images, {
        "kind": "saved_model",
        "path": scorer.path,
        "image_size": scorer.image_size,
        "objective": scorer.metadata.get("objective", "pear"),
        "bin_values": list(scorer.metadata["bin_values"]),
    }


def evaluate(model_path, data_config, split="test", batch_size=64, bootstrap=0, verbose=1):
    """Scores ``split`` of the data set with the model; returns (report, predictions)."""
    score, description = load_scorer(model_path)
    if split not in ("train", "validation", "test"):
        raise errors.BadValue(f"--split={split!r}: expected train, validation or test.")
    splits = sources.load_splits(data_config, description["image_size"])
    if list(splits.scale.bin_values) != description["bin_values"]:
        raise errors.BadValue(
            f"{model_path} rates on the bins {description['bin_values']}, but --dataset={data_config.dataset} "
            f"uses {list(splits.scale.bin_values)}: evaluate a model on the data set (scale) it was trained for."
        )
    skip_log = SkipLog(splits.dropped)
    dataset = pipeline.make_dataset(getattr(splits, split), description["image_size"], batch_size, skip_log=skip_log)
    predictions = scoring.predict_dataset(None, dataset, verbose=verbose, score=score)
    report = scoring.split_metrics(predictions, splits.scale)
    attributes = analysis.attribute_report(predictions, splits.scale, splits.attributes_known)
    if attributes is not None:
        report.update(analysis.report_metrics(attributes))
    if bootstrap:
        report["bootstrap"] = bootstrap_intervals(
            predictions["true_distribution"], predictions["distribution"], splits.scale, bootstrap,
            true_scores=predictions.get("true_score"),
        )  # fmt: skip
    report["skipped_images"] = [{"path": p, "reason": r} for p, r in skip_log.items()]
    report["evaluated"] = {
        "model": description,
        "dataset": data_config.dataset,
        "data_dir": data_config.data_dir,
        "split": split,
        "bin_values": list(splits.scale.bin_values),
        "threshold": splits.scale.threshold,
        "correlations_against": "official scores" if "true_score" in predictions else "mean of the rater distribution",
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


def evaluate_to_files(model_path, data_config, output, split="test", batch_size=64, bootstrap=0):
    """``evaluate``, then the report files beside ``output`` and the summary on stdout; returns the report."""
    report, predictions = evaluate(model_path, data_config, split, batch_size, bootstrap)
    paths = write_report(report, predictions, output)
    print("\n" + markdown_summary(report))  # after the progress bar's line
    print("Wrote " + ", ".join(paths.values()))
    return report
