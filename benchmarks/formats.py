"""Does a photo score the same however it is stored? Orientation tags and formats, on a trained model.

    python benchmarks/formats.py --model=savedmodels/demo

For each real photograph shipped in packages (scikit-learn's china and flower, scikit-image's
astronaut, coffee and chelsea), at phone proportions (a 3:4 portrait of --side px on its long
side), prints the |Δscore| against the upright PNG of:
- the JPEG (quality 95) tagged with each EXIF orientation 2..8 (stored turned, as phones do),
  and for contrast the same turned pixels without the tag (what pear_tf did before issue 22);
- every format (JPEG baseline/progressive/CMYK, PNG 16-bit/palette, GIF, BMP, WebP, TIFF
  8/16-bit, HEIC, AVIF) and Display P3 / Adobe RGB copies with their ICC profile;
through ``predict``'s scorer (the host routing) and, for formats the graph decodes, the
SavedModel's ``serving_default`` alone (what TF Serving computes). Mean and max over photos.
"""

import io
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from PIL import Image, ImageCms  # noqa: E402

from pear_tf.data import host_decode  # noqa: E402
from pear_tf.inference.saved_model import SavedModelScorer  # noqa: E402
from tests import real_images as ri  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("model", "savedmodels/demo", "A SavedModel (base folder or version).")
flags.DEFINE_integer("side", 400, "Long side of the portrait copies, px.")

PHOTOS = ("china", "flower", "astronaut", "coffee", "chelsea")


def variants(pixels):
    """{name: encoded bytes} of one upright photo stored in every way the table compares."""
    image = Image.fromarray(pixels)
    found = {f"orientation {o}": ri.with_orientation(pixels, o, "JPEG", quality=95) for o in range(2, 9)}
    found.update({f"untagged {o}": ri.encode(image.transpose(ri.STORED_AS[o]), "JPEG", quality=95) for o in range(2, 9)})
    import tifffile

    tiff16 = io.BytesIO()
    tifffile.imwrite(tiff16, pixels.astype(np.uint16) * 257, photometric="rgb")
    found.update({
        "jpeg (upright, the tags' own noise)": ri.encode(image, "JPEG", quality=95),
        "jpeg progressive": ri.encode(image, "JPEG", quality=95, progressive=True),
        "jpeg cmyk": ri.encode(image.convert("CMYK"), "JPEG", quality=95),
        "png 16-bit": tf.io.encode_png(pixels.astype(np.uint16) * 257).numpy(),
        "png palette": ri.encode(image.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
        "gif": ri.encode(image.convert("P", palette=Image.Palette.ADAPTIVE), "GIF"),
        "bmp": ri.encode(image, "BMP"),
        "webp lossless": ri.encode(image, "WEBP", lossless=True),
        "webp q90": ri.encode(image, "WEBP", quality=90),
        "tiff": ri.encode(image, "TIFF"),
        "tiff 16-bit": tiff16.getvalue(),
        "heic q90": ri.encode(image, "HEIF", quality=90),
        "avif q90": ri.encode(image, "AVIF", quality=90),
    })  # fmt: skip
    srgb = ImageCms.createProfile("sRGB")
    for space in ("DISPLAY_P3", "ADOBE_RGB"):
        profile = ri.rgb_profile(space, **getattr(ri, space))
        stored = ImageCms.profileToProfile(image, srgb, ImageCms.ImageCmsProfile(io.BytesIO(profile)), outputMode="RGB")
        found[f"{space.lower()} png"] = ri.encode(stored, "PNG", icc_profile=profile)
        found[f"{space.lower()} png, profile stripped"] = ri.encode(np.asarray(stored), "PNG")
    return found


def main(argv):
    del argv
    scorer = SavedModelScorer(FLAGS.model)
    graph = scorer.signatures["serving_default"]
    size = (FLAGS.side, FLAGS.side * 3 // 4)
    deltas = {}
    for name in PHOTOS:
        pixels = ri.photo(name, size)
        reference = ri.encode(pixels, "PNG")
        stored = variants(pixels)
        names = list(stored)
        scores = scorer.score_bytes([reference, *stored.values()])["score"]
        in_graph = [n for n in names if host_decode.probe(stored[n]).host_reason is None]
        graph_scores = graph(image_bytes=tf.constant([reference] + [stored[n] for n in in_graph]))["score"].numpy()
        for i, variant in enumerate(names):
            deltas.setdefault(variant, {"predict": [], "graph": []})["predict"].append(abs(scores[i + 1] - scores[0]))
        for i, variant in enumerate(in_graph):
            deltas[variant]["graph"].append(abs(graph_scores[i + 1] - graph_scores[0]))
    print(f"|Δscore| against the upright PNG, {len(PHOTOS)} photos at {size[1]}x{size[0]}, model {scorer.path}")
    print(f"{'stored as':<36} {'predict mean':>12} {'max':>7} {'graph mean':>11} {'max':>7}")
    for variant, by_path in deltas.items():
        row = f"{variant:<36} {np.mean(by_path['predict']):>12.4f} {np.max(by_path['predict']):>7.4f}"
        if by_path["graph"]:
            row += f" {np.mean(by_path['graph']):>11.4f} {np.max(by_path['graph']):>7.4f}"
        else:
            row += f" {'(host only)':>11}"
        print(row)


if __name__ == "__main__":
    app.run(main)
