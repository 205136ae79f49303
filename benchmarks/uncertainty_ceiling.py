"""How far label noise lets any per-photo uncertainty predict error on the project's generators (issue 27).

    python benchmarks/uncertainty_ceiling.py [--photos=3000 --redraws=64]

A photo's truth is the mean of its raters' votes. For each generator (the synthetic AADB-like and
AVA-like sets, pear_tf/data/synthetic.py; the landscapes, pear_tf/data/landscapes.py) it draws the
hidden properties of N photos exactly as the generator does (without rendering: the votes do not
depend on the pixels), one truth, and R more vote draws around the same properties:
- **seen by the image**: the votes redrawn as the generator draws them (rater count, and the
  landscapes' controversy, are drawn again: neither is rendered). An oracle that knows everything the
  image shows can say no more than the sd of these redraws;
- **told the controversy** (landscapes only): the same with the photo's own controversy kept.
It prints the oracle's Spearman(sd of the redraws, |truth − their mean|): the ceiling of ρ that the
truths' noise allows. The rest of a model's error is its bias; see BUILD_NOTES (Calibration,
uncertainty) for why its size is unpredictable on an additive generator.
"""

import argparse

import numpy as np
from scipy import stats

from pear_tf.data import landscapes, synthetic


def _ceiling(truth, redraws):
    return float(stats.spearmanr(redraws.std(1), np.abs(truth - redraws.mean(1)))[0])


def synthetic_truths(flavour, photos, redraws, seed=0):
    """(truth [N], redrawn truths [N, R]) of the synthetic flavour's photos."""
    spec = synthetic.FLAVOURS[flavour]
    bins = np.asarray(spec.scale.bin_values)
    truth, again = np.empty(photos), np.empty((photos, redraws))
    for i in range(photos):
        rng = np.random.default_rng([seed, i])
        values, scene = synthetic._latents(rng)  # the generator's own draw of a photo's hidden properties
        q = synthetic.quality(values, scene)
        votes = [synthetic.vote_counts(q, spec, rng) for _ in range(redraws + 1)]
        means = np.array([v @ bins / v.sum() for v in votes])
        truth[i], again[i] = means[0], means[1:]
    return truth, again


def landscape_truths(photos, redraws, keep_controversy, seed=0):
    """(truth [N], redrawn truths [N, R]) of landscapes; the controversy kept or drawn again from its prior."""
    leniency = landscapes.crowd_leniency(seed)
    bins = np.arange(1, 11)
    truth, again = np.empty(photos), np.empty((photos, redraws))
    for i in range(photos):
        rng = np.random.default_rng([seed, i, 5])
        craft, content = landscapes._scene_parameters(rng)
        q = landscapes.quality(craft, content)
        votes = landscapes.vote_counts(q, content["controversy"], leniency, rng)
        truth[i] = votes @ bins / votes.sum()
        for r in range(redraws):
            controversy = content["controversy"] if keep_controversy else float(rng.uniform() ** 3)
            votes = landscapes.vote_counts(q, controversy, leniency, rng)
            again[i, r] = votes @ bins / votes.sum()
    return truth, again


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=3000)
    parser.add_argument("--redraws", type=int, default=64)
    args = parser.parse_args()
    cases = {
        "synthetic AADB-like (5 raters)": synthetic_truths("aadb", args.photos, args.redraws),
        "synthetic AVA-like (80-220 raters)": synthetic_truths("ava", args.photos, args.redraws),
        "landscapes, seen by the image": landscape_truths(args.photos, args.redraws, keep_controversy=False),
        "landscapes, told the controversy": landscape_truths(args.photos, args.redraws, keep_controversy=True),
    }
    print(f"{args.photos} photos, {args.redraws} redraws each")
    print(f"{'generator':<38}{'noise sd of the truth':>22}{'oracle rho':>12}")
    for name, (truth, again) in cases.items():
        sd = again.std(1)
        print(f"{name:<38}{np.median(sd):>10.3f} ({np.percentile(sd, 5):.3f}-{np.percentile(sd, 95):.3f})"
              f"{_ceiling(truth, again):>12.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
