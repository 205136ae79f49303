"""Attribute analysis of a trained PEAR (paper Fig. 3), as figures and TensorBoard views.

- ``attribute_report``: agreement of inferred with true attributes and the attribute
  correlation difference of DESIGN.md §3;
- ``plot_correlation_matrices``: the predicted and true [attributes, score] correlation
  matrices and their difference, as a heat-map PNG (Fig. 3 left);
- ``plot_attribute_bars``: one image's inferred attributes as a bar chart (Fig. 3 middle);
- ``plot_tsne`` and ``write_projector``: the content latent s of a split, 2-D t-SNE
  coloured by the binary label, and TensorBoard's projector (Fig. 3 right).
"""

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pear_tf import metrics  # noqa: E402
from pear_tf.attributes import ATTRIBUTE_NAMES  # noqa: E402


def attribute_report(predictions, scale, attributes_known=False):
    """Inferred vs true attributes on a split; None where no true attribute is known.

    Args:
      predictions: from evaluation.scoring.predict_dataset; None is returned when they hold
        no ``attributes`` (a Table 1 baseline).
      scale: the RatingScale.
      attributes_known: the true attributes are known everywhere, even where the mask
        hid them from training (Splits.attributes_known); else only where the mask is 1.

    Returns:
      A dict: the figures attribute_srcc_mean, attribute_accuracy_mean,
      attribute_corr_diff (full-matrix mean) and attribute_corr_diff_offdiag (without the
      diagonal), ``per_attribute`` and ``matrices`` (predicted, true).
    """
    if "attributes" not in predictions:
        return None
    mask = np.asarray(predictions["attribute_mask"])
    truth_mask = np.ones_like(mask) if attributes_known else mask
    if not truth_mask.any():
        return None
    agreement = metrics.attribute_agreement(
        predictions["attributes"], predictions["true_attributes"], truth_mask, ATTRIBUTE_NAMES
    )
    known = np.asarray(truth_mask).all(axis=1)
    true_scores = metrics.mean_scores(predictions["true_distribution"], scale.bin_values)
    difference, predicted_matrix, true_matrix = metrics.attribute_correlation_difference(
        predictions["attributes"][known], predictions["score"][known],
        predictions["true_attributes"][known], true_scores[known],
    )  # fmt: skip
    return {
        "attribute_srcc_mean": agreement["mean_srcc"],
        "attribute_accuracy_mean": agreement["mean_accuracy"],
        "attribute_corr_diff": difference,
        "attribute_corr_diff_offdiag": metrics.offdiagonal_mean(predicted_matrix - true_matrix),
        "per_attribute": agreement["per_attribute"],
        "matrices": {"predicted": predicted_matrix, "true": true_matrix},
    }


def report_metrics(report):
    """The figures of an attribute_report that go into eval_metrics.json and evaluate's report."""
    keys = ("attribute_srcc_mean", "attribute_accuracy_mean", "attribute_corr_diff", "attribute_corr_diff_offdiag")
    return {**{key: report[key] for key in keys}, "attributes": report["per_attribute"]}


def plot_correlation_matrices(predicted, true, path):
    """Heat maps of the two correlation matrices and their difference; returns the path."""
    labels = list(ATTRIBUTE_NAMES) + ["score"]
    figure, axes = plt.subplots(1, 3, figsize=(18, 6), constrained_layout=True)
    panels = (("predicted", predicted), ("ground truth", true), ("predicted − truth", predicted - true))
    for axis, (title, matrix) in zip(axes, panels):
        image = axis.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
        axis.set_title(title)
        axis.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
        axis.set_yticks(range(len(labels)), labels, fontsize=8)
    figure.colorbar(image, ax=axes, shrink=0.8, label="Pearson correlation")
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


def plot_attribute_bars(attributes, score, path, title=""):
    """A bar chart of one image's 11 inferred attributes; returns the path."""
    figure, axis = plt.subplots(figsize=(7, 4), constrained_layout=True)
    axis.barh(list(ATTRIBUTE_NAMES)[::-1], np.asarray(attributes)[::-1], color="tab:blue")
    axis.set_xlim(0, 1)
    axis.set_xlabel("q(z|x): probability the attribute is present")
    axis.set_title(f"{title}  score {score:.2f}".strip())
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


# t-SNE is quadratic in the points: a larger split is subsampled (the picture is the same).
TSNE_MAX_POINTS = 2000


def plot_tsne(content, labels, path, seed=0):
    """2-D t-SNE of the content latents (at most TSNE_MAX_POINTS), coloured by the binary label; returns the path."""
    from sklearn.manifold import TSNE

    if len(content) > TSNE_MAX_POINTS:
        keep = np.sort(np.random.default_rng(seed).choice(len(content), TSNE_MAX_POINTS, replace=False))
        content, labels = np.asarray(content)[keep], np.asarray(labels)[keep]
    perplexity = float(min(30, max(2, (len(content) - 1) // 3)))
    points = TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca").fit_transform(content)
    figure, axis = plt.subplots(figsize=(6, 6), constrained_layout=True)
    for value, colour, name in ((False, "tab:blue", "low"), (True, "tab:red", "high")):
        rows = np.asarray(labels) == value
        axis.scatter(points[rows, 0], points[rows, 1], s=6, c=colour, label=f"{name} aesthetics")
    axis.legend()
    axis.set_title("t-SNE of the content latent s")
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


def write_projector(log_dir, content, labels):
    """The content latents with their binary label, for TensorBoard's projector tab."""
    import tensorflow as tf
    from tensorboard.plugins import projector

    os.makedirs(log_dir, exist_ok=True)
    with open(os.path.join(log_dir, "metadata.tsv"), "w") as f:
        # One column: no header line (TensorBoard reads a header only with two or more columns).
        f.writelines(("high\n" if label else "low\n") for label in labels)
    embedding = tf.Variable(np.asarray(content, np.float32), name="content_latent")
    tf.train.Checkpoint(embedding=embedding).save(os.path.join(log_dir, "embedding.ckpt"))
    config = projector.ProjectorConfig()
    view = config.embeddings.add()
    view.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    view.metadata_path = "metadata.tsv"
    projector.visualize_embeddings(log_dir, config)


def explain_files(scorer, paths, output_dir):
    """Scores ``paths`` with a SavedModelScorer and writes a bar chart per readable image.

    Returns:
      The rows (errors included); a readable image's row has ``chart``, its PNG's path.
    """
    os.makedirs(output_dir, exist_ok=True)
    rows = []
    for path in paths:
        row = scorer.score_file(path)
        if "error" not in row:
            chart = os.path.join(output_dir, os.path.basename(path) + ".attributes.png")
            row["chart"] = plot_attribute_bars(row["attributes"], row["score"], chart, os.path.basename(path))
        rows.append(row)
    return rows
