"""The taste report: taste.json and taste.png, which attributes a person weighs more or less than the crowd."""

import json
import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pear_tf.attributes import ATTRIBUTE_NAMES  # noqa: E402

# How the report names an attribute in a sentence.
PHRASES = {
    "BalacingElements": "balancing elements",
    "ColorHarmony": "colour harmony",
    "Content": "interesting content",
    "DoF": "shallow depth of field",
    "Light": "good light",
    "MotionBlur": "motion blur",
    "Object": "object emphasis",
    "Repetition": "repetition",
    "RuleOfThirds": "rule of thirds",
    "Symmetry": "symmetry",
    "VividColor": "vivid colour",
}
# A weight counts as a preference when it is this many posterior stds away from zero.
CLEAR = 1.0


def taste_summary(taste, person, generic_model, max_items=3):
    """The report as a dict: per attribute its weight ± std, and a sentence of the clear ones."""
    effects, stds = taste.effects
    attributes = [
        {"name": name, "phrase": PHRASES[name], "effect": float(e), "std": float(s), "weight": float(w),
         "weight_std": float(ws)}
        for name, e, s, w, ws in zip(ATTRIBUTE_NAMES, effects, stds, taste.weights, taste.weights_std)
    ]  # fmt: skip
    ranked = sorted(attributes, key=lambda a: -abs(a["effect"]) / a["std"])
    clear = [a for a in ranked if abs(a["effect"]) >= CLEAR * a["std"]][:max_items]
    parts = [f"{'prefers' if a['effect'] > 0 else 'dislikes'} {a['phrase']} ({a['effect']:+.2f})" for a in clear]
    return {
        "person": person,
        "generic_model": generic_model,
        "num_ratings": taste.num_ratings,
        "units": {
            "effect": "generic score points that a one-std difference of the attribute (among the rated photos) "
            "adds for this person beyond the generic model; std: its posterior std",
            "weight": "the same per unit of attribute probability (what the personal model adds)",
        },
        "generic_slope": taste.generic_slope,
        "attributes": attributes,
        "strongest_like": max(attributes, key=lambda a: a["effect"])["name"],
        "strongest_dislike": min(attributes, key=lambda a: a["effect"])["name"],
        "summary": (", ".join(parts) if parts else "rates like the generic model (no clear preference yet)").replace(
            "-", "\u2212"
        ),
    }


def rated_photos(feats, rated):
    """The taste report's list of rated photos: the person's rating beside the generic model's view of it.

    With a calibrated generic model: its calibrated score ± score_std on the raters' scale and
    whether the photo looks like a photo to it (a flagged one says little about taste).
    """
    photos = []
    for i, path in enumerate(feats["path"]):
        photo = {"path": str(path), "rating": float(rated[path]), "generic_score": float(feats["score"][i])}
        for key in ("calibrated_score", "score_std", "ood_score"):
            if key in feats:
                photo[f"generic_{key}" if key != "ood_score" else key] = float(feats[key][i])
        if "is_photo_like" in feats:
            photo["is_photo_like"] = bool(feats["is_photo_like"][i])
        photos.append(photo)
    flagged = [p["path"] for p in photos if p.get("is_photo_like") is False]
    return {"rated_photos": photos, "not_photo_like": flagged}


def write_taste(summary, out_dir):
    """Writes taste.json and taste.png into ``out_dir``; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    json_path, png_path = os.path.join(out_dir, "taste.json"), os.path.join(out_dir, "taste.png")
    with open(json_path, "w") as f:
        json.dump(summary, f, indent=2, ensure_ascii=False)
    items = sorted(summary["attributes"], key=lambda a: a["effect"])
    weights = np.array([a["effect"] for a in items])
    figure, axis = plt.subplots(figsize=(7, 4.5))
    axis.barh(
        [a["phrase"] for a in items], weights, xerr=[a["std"] for a in items], capsize=3,
        color=np.where(weights >= 0, "#2a9d8f", "#e76f51"),
    )  # fmt: skip
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlabel("score points beyond the generic model, per std of the attribute (\u00b11 std)", fontsize=9)
    flagged = summary.get("not_photo_like") or []
    warning = f"\n{len(flagged)} rated photo(s) not photo-like to the model" if flagged else ""
    axis.set_title(f"Taste of {summary['person']} from {summary['num_ratings']} ratings\n{summary['summary']}{warning}",
                   fontsize=9)  # fmt: skip
    figure.tight_layout()
    figure.savefig(png_path, dpi=110)
    plt.close(figure)
    return json_path, png_path
