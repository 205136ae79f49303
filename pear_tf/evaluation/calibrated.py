"""The report's figures for scores people act on: the scale, the uncertainty against the error, the flag.

For ``score`` and (where the model has it) ``calibrated_score``: the score-spread ratio
(std of predictions / std of truths), MAE, RMSE and accuracy at the data set's threshold.
For the uncertainty: Spearman(score_std, |calibrated_score − truth|) beside the same for the
predicted distribution's own spread, and the selective-prediction curve (SRCC and MAE of the
most confident 10 … 100 % of photos), as JSON and a PNG. For the flag: the share of the
split's photos that are not photo-like.
"""

import numpy as np
from scipy import stats

from pear_tf import metrics
from pear_tf.calibration import uncertainty
from pear_tf.calibration.fit import truths

SCORES = ("score", "calibrated_score")


def scale_figures(predicted, truth, true_means, threshold):
    """Spread ratio, MAE, RMSE, SRCC and accuracy at ``threshold`` of predicted scores [N] against truths [N]."""
    predicted, truth = np.asarray(predicted, np.float64), np.asarray(truth, np.float64)
    error = predicted - truth
    return {
        "spread_ratio": float(np.std(predicted) / np.std(truth)) if np.std(truth) > 0 else float("nan"),
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "srcc": float(stats.spearmanr(predicted, truth)[0]) if np.ptp(predicted) > 0 else float("nan"),
        "accuracy": metrics.binary_accuracy(true_means, predicted, threshold),
        "mean": float(np.mean(predicted)),
    }


def report(predictions, scale):
    """The figures of the module docstring for a split's predictions (see scoring.predict_dataset)."""
    truth = truths(predictions, scale.bin_values)
    true_means = metrics.mean_scores(predictions["true_distribution"], scale.bin_values)
    out = {"truth": {"std": float(np.std(truth)), "mean": float(np.mean(truth)),
                     "share_above_threshold": float(np.mean(true_means > scale.threshold))}}  # fmt: skip
    for name in SCORES:
        if name in predictions:
            out[name] = scale_figures(predictions[name], truth, true_means, scale.threshold)
    predicted = predictions.get("calibrated_score", predictions["score"])
    spread = uncertainty.distribution_std(predictions["distribution"], scale.bin_values)
    out["uncertainty"] = {
        "error_of": "calibrated_score" if "calibrated_score" in predictions else "score",
        "spearman_score_std_error": uncertainty.error_spearman(predictions["score_std"], predicted, truth),
        "spearman_distribution_std_error": uncertainty.error_spearman(spread, predicted, truth),
        "selective": uncertainty.selective_curve(predictions["score_std"], predicted, truth),
    }
    if "is_photo_like" in predictions:
        out["ood"] = {
            "flagged_fraction": float(np.mean(~np.asarray(predictions["is_photo_like"], bool))),
            "ood_score_median": float(np.median(predictions["ood_score"])),
        }
    return out


def flat_metrics(report_):
    """The report's headline figures as flat ``<output>_<figure>`` floats (eval_metrics.json, TensorBoard)."""
    flat = {}
    for name in SCORES:
        for key, value in report_.get(name, {}).items():
            if key != "srcc" or name != "score":  # score's SRCC is the §3 srcc already
                flat[f"{name}_{key}"] = value
    flat["uncertainty_error_spearman"] = report_["uncertainty"]["spearman_score_std_error"]
    flat["distribution_std_error_spearman"] = report_["uncertainty"]["spearman_distribution_std_error"]
    if "ood" in report_:
        flat["not_photo_like_fraction"] = report_["ood"]["flagged_fraction"]
    return flat


def plot_selective(report_, path):
    """The selective-prediction curve (SRCC and MAE of the most confident share of photos) as a PNG."""
    import matplotlib.pyplot as plt  # analysis has selected the Agg backend

    curve = report_["uncertainty"]["selective"]
    fractions = [100 * point["fraction"] for point in curve]
    figure, left = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
    left.plot(fractions, [point["srcc"] for point in curve], "o-", color="#2d6cdf", label="SRCC")
    left.set(xlabel="most confident photos kept (%, by score_std)", ylabel="SRCC", xlim=(5, 105))
    right = left.twinx()
    right.plot(fractions, [point["mae"] for point in curve], "s--", color="#e08a2d", label="MAE")
    right.set_ylabel(f"MAE of {report_['uncertainty']['error_of']}")
    rho = report_["uncertainty"]["spearman_score_std_error"]
    left.set_title(f"Selective prediction: Spearman(score_std, |error|) = {rho:.3f}" if np.isfinite(rho)
                   else "Selective prediction (score_std is constant)", fontsize=10)  # fmt: skip
    figure.legend(loc="lower center", ncol=2, fontsize=8)
    figure.savefig(path, dpi=100)
    plt.close(figure)
