"""The taste report: taste.json and taste.png, what a person weighs more or less than the crowd.

Per attribute and content component, its effect in generic score points; how far the
person agrees with the crowd; and whether the evidence chose a correction at all: when it
did not, the report says the personal model is the generic one.
"""

import json
import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pear_tf.attributes import ATTRIBUTE_NAMES  # noqa: E402
from pear_tf.personal.adapt import GENERIC  # noqa: E402

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


def _sentence(taste, attributes, content, agreement, max_items):
    if taste.chosen == GENERIC:
        doubt = "" if taste.crowd_slope > 0 else " (though these ratings do not follow the crowd either)"
        return f"rates like the generic model: the evidence of {taste.num_ratings} ratings favours no correction{doubt}"
    ranked = sorted(attributes, key=lambda a: -abs(a["effect"]) / a["std"])
    clear = [a for a in ranked if abs(a["effect"]) >= CLEAR * a["std"]][:max_items]
    parts = [f"{'prefers' if a['effect'] > 0 else 'dislikes'} {a['phrase']} ({a['effect']:+.2f})" for a in clear]
    clear_content = [c for c in content if abs(c["effect"]) >= CLEAR * c["std"]]
    if clear_content:
        parts.append(f"has tastes in content no attribute names ({len(clear_content)} component"
                     f"{'s' if len(clear_content) > 1 else ''})")  # fmt: skip
    if agreement < 0.5:
        parts.append(f"agrees {'little' if agreement > 0 else 'not at all'} with the crowd ({agreement:+.2f})")
    return ", ".join(parts) if parts else "a small correction of the generic model (no clear preference yet)"


def taste_summary(taste, person, generic_model, max_items=3):
    """The report as a dict: per attribute and content component its effect ± std, and a sentence."""
    effects, stds = taste.effects
    _, coefficients = taste.linear()
    coefficients_std = taste.coefficients_std()
    # An attribute's effect holds the generic score (and the content) fixed: what this person
    # adds beyond the average person per std of the attribute among the training photos.
    attribute_effects, attribute_stds = taste.attribute_effects()
    attributes = [
        {"name": name, "phrase": PHRASES[name], "effect": float(attribute_effects[j]),
         "std": float(attribute_stds[j]), "weight": float(coefficients[j + 1]),
         "weight_std": float(coefficients_std[j + 1])}
        for j, name in enumerate(ATTRIBUTE_NAMES)
    ]  # fmt: skip
    content = [{"name": name, "phrase": name, "effect": float(effects[i]), "std": float(stds[i])}
               for i, name in enumerate(taste.space.names) if name.startswith("content")]  # fmt: skip
    # The crowd's share in the personal score: the correlation of personal and generic scores
    # over the reference photos (1: the generic model; below 0: against the crowd).
    agreement = float(effects[0] / max(taste.space.generic_std, 1e-12))
    return {
        "person": person,
        "generic_model": generic_model,
        "num_ratings": taste.num_ratings,
        "units": {
            "effect": "generic score points that a one-std difference of the attribute or content component "
            "(among the base model's training photos, the generic score held fixed) adds for this person beyond the "
            "average person (the population's mean taste); std: its posterior std",
            "weight": "the same per unit of attribute probability (what the personal model adds)",
            "crowd_agreement": "correlation of the personal with the generic score over the training photos",
            "generic_slope": "the generic score's weight on the standardised ratings, fitted alone",
        },
        "chosen": taste.chosen,
        "is_generic": taste.is_generic,
        "evidence": taste.evidence,
        "scales": taste.scales,
        "crowd_agreement": agreement,
        "generic_slope": taste.crowd_slope,
        "attributes": attributes,
        "content": content,
        "strongest_like": max(attributes, key=lambda a: a["effect"])["name"],
        "strongest_dislike": min(attributes, key=lambda a: a["effect"])["name"],
        "summary": _sentence(taste, attributes, content, agreement, max_items).replace("-", "\u2212"),
    }


def write_taste(summary, out_dir):
    """Writes taste.json and taste.png into ``out_dir``; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    json_path, png_path = os.path.join(out_dir, "taste.json"), os.path.join(out_dir, "taste.png")
    with open(json_path, "w") as f:
        json.dump(summary, f, indent=2, ensure_ascii=False)
    items = sorted(summary["attributes"], key=lambda a: a["effect"]) + summary["content"]
    weights = np.array([a["effect"] for a in items])
    figure, axis = plt.subplots(figsize=(7, 4.5 + 0.12 * len(summary["content"])))
    axis.barh(
        [a["phrase"] for a in items], weights, xerr=[a["std"] for a in items], capsize=3,
        color=np.where(weights >= 0, "#2a9d8f", "#e76f51"),
    )  # fmt: skip
    axis.axvline(0, color="black", linewidth=0.8)
    axis.invert_yaxis()
    axis.tick_params(axis="y", labelsize=7)
    axis.set_xlabel("score points beyond the generic model, per std of the feature (\u00b11 std)", fontsize=9)
    axis.set_title(f"Taste of {summary['person']} from {summary['num_ratings']} ratings "
                   f"(crowd agreement {summary['crowd_agreement']:+.2f})\n{summary['summary']}", fontsize=8)  # fmt: skip
    figure.tight_layout()
    figure.savefig(png_path, dpi=110)
    plt.close(figure)
    return json_path, png_path
