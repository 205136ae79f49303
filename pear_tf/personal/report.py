"""The protocol's report: per-user generic vs personal SRCC, who it hurt, the gain's bootstrap CI; JSON, markdown, PNG."""

import json
import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# A user counts as hurt (helped) when personalising moves their mean SRCC below (above) this.
HURT = 0.02
BOOTSTRAP = 2000
CONFIDENCE = 0.95


def bootstrap_interval(values, resamples=BOOTSTRAP, confidence=CONFIDENCE, seed=0):
    """Percentile bootstrap interval of the mean of ``values`` (resampling users; fixed seed)."""
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return [float("nan"), float("nan")]
    means = values[np.random.default_rng(seed).integers(0, len(values), (resamples, len(values)))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    return [float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))]


def summarise(per_worker, trials):
    """Mean ± std over workers of generic and personal SRCC, and the gain: mean, CI, share hurt and helped."""
    if not per_worker:
        return {"generic": None, "personal": None, "gain": None, "generic_chosen": None}
    summary = {}
    for key in ("generic", "personal"):
        values = np.array([r[key] for r in per_worker.values()])
        summary[key] = {"mean": float(np.nanmean(values)), "std": float(np.nanstd(values))}
    gains = np.array([r["gain"] for r in per_worker.values()])
    summary["gain"] = {
        "mean": float(np.nanmean(gains)),
        "std": float(np.nanstd(gains)),
        "ci95": bootstrap_interval(gains),
        "hurt_share": float(np.mean(gains < -HURT)),
        "helped_share": float(np.mean(gains > HURT)),
        "hurt_threshold": HURT,
    }
    chosen = sum(r.get("generic_chosen", 0) for r in per_worker.values())
    summary["generic_chosen"] = chosen / (trials * len(per_worker))
    return summary


def _cell(summary):
    return f"{summary['mean']:.3f} ± {summary['std']:.3f}" if summary else "n/a"


def _gain_cell(gain):
    if not gain:
        return "n/a"
    low, high = gain["ci95"]
    return f"{gain['mean']:+.3f} [{low:+.3f}, {high:+.3f}]"


def markdown(report):
    """The report as a markdown table, beside the published figures."""
    shots = list(report["results"])
    summaries = [report["results"][k]["summary"] for k in shots]

    def row(name, cells):
        return f"| {name} | " + " | ".join(cells) + " |"

    lines = [
        f"# Personalised aesthetics: FLICKR-AES protocol ({report['test_workers']} test workers, "
        f"{report['trials']} trials)",
        "",
        f"Model: `{report['model']}`. Population prior: {report.get('population', 'none')}. Mean per-worker SRCC "
        "on each worker's held-out images, mean ± std over workers.",
        "",
        "| model | " + " | ".join(f"{k} shots" for k in shots) + " |",
        "|---|" + "---|" * len(shots),
        row("generic (this model, not adapted)", [_cell(s["generic"]) for s in summaries]),
        row("personalised (this model)", [_cell(s["personal"]) for s in summaries]),
        row("gain, mean [95% bootstrap CI]", [_gain_cell(s.get("gain")) for s in summaries]),
        row(f"users hurt (gain < −{HURT})", [f"{s['gain']['hurt_share']:.0%}" if s.get("gain") else "n/a"
                                              for s in summaries]),  # fmt: skip
        row("fits where the evidence chose the generic model",
            [f"{s['generic_chosen']:.0%}" if s.get("generic_chosen") is not None else "n/a" for s in summaries]),
    ]
    for name, values in report["published"].items():
        lines.append(row(f"{name} (published)", [f"{values.get(k, float('nan')):.3f}" for k in shots]))
    if report["unreadable_images"]:
        lines += ["", f"{len(report['unreadable_images'])} unreadable images were left out (listed in the JSON)."]
    return "\n".join(lines) + "\n"


def plot(report, path):
    """personal_eval.png: per shot count, each user's generic vs personal SRCC, and the sorted gains."""
    shots = [k for k in report["results"] if report["results"][k]["workers"]]
    figure, axes = plt.subplots(2, max(len(shots), 1), figsize=(5 * max(len(shots), 1), 8), squeeze=False)
    for column, k in enumerate(shots):
        workers = report["results"][k]["workers"]
        gain = report["results"][k]["summary"]["gain"]
        generic = np.array([w["generic"] for w in workers.values()])
        personal = np.array([w["personal"] for w in workers.values()])
        top, bottom = axes[0, column], axes[1, column]
        top.scatter(generic, personal, s=14, color="#264653")
        low, high = np.nanmin([generic, personal]) - 0.05, np.nanmax([generic, personal]) + 0.05
        top.plot([low, high], [low, high], color="black", linewidth=0.8)
        top.fill_between([low, high], [low - HURT, high - HURT], [low + HURT, high + HURT], color="grey", alpha=0.2)
        top.set(xlabel="generic SRCC", ylabel="personal SRCC",
                title=f"k = {k}: gain {_gain_cell(gain)}\n{gain['hurt_share']:.0%} of {len(workers)} users hurt "
                      f"(< −{HURT})")  # fmt: skip
        top.title.set_fontsize(9)
        gains = np.sort(personal - generic)
        bottom.bar(np.arange(len(gains)), gains, color=np.where(gains < -HURT, "#e76f51", "#2a9d8f"))
        bottom.axhline(-HURT, color="#e76f51", linewidth=0.8, linestyle="--")
        bottom.axhline(0, color="black", linewidth=0.8)
        bottom.set(xlabel="users, sorted", ylabel="personal − generic SRCC")
    base, version = os.path.split(os.path.normpath(report["model"]))
    figure.suptitle(f"{os.path.basename(base)}/{version}: personalisation per user", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def write_report(report, output_dir):
    """personal_eval.json, personal_eval.md and personal_eval.png in ``output_dir``; returns their paths."""
    os.makedirs(output_dir, exist_ok=True)
    paths = [os.path.join(output_dir, f"personal_eval.{ext}") for ext in ("json", "md", "png")]
    with open(paths[0], "w") as f:
        json.dump(report, f, indent=1, ensure_ascii=False)
    with open(paths[1], "w") as f:
        f.write(markdown(report))
    plot(report, paths[2])
    return paths
