"""Score images with a PEAR .tflite model, as an app on a phone would.

    python -m pear_tf.tflite_score --model=pear_int8.tflite photo.jpg ...

Runs ``ai_edge_litert``'s Interpreter on the documented preprocessing: decode to RGB,
resize to round(S·256/224) square (bilinear, antialiased), centre-crop S×S, float32 0..255
(or uint8, for a file exported with --tflite_input=uint8). The bins, attribute names and
image size come from the file's own metadata (no side file).
"""

from absl import app, flags

from pear_tf import cli
from pear_tf.attributes import ATTRIBUTE_NAMES
from pear_tf.inference.metadata import demo_warning
from pear_tf.inference.tflite import TFLiteScorer, load_image

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("model", None, "The .tflite file.")
    flags.mark_flag_as_required("model")


def main(argv):
    scorer = TFLiteScorer(FLAGS.model)
    metadata = scorer.metadata
    if metadata is None:
        print(f"NOTE: {FLAGS.model} carries no pear_metadata (exported before pear_tf wrote it): "
              "attribute names are pear_tf's defaults. Export it again to make it self-describing.")  # fmt: skip
        names = ATTRIBUTE_NAMES
    else:
        names = metadata.get("attribute_names", [])
        model = metadata.get("model", {})
        print(f"{model.get('name', '?')} version {model.get('version', '?')}, {metadata['tflite']['variant']}, "
              f"{scorer.input_type} input {scorer.image_size} px, trained on {metadata.get('dataset') or '?'}, "
              f"bins {metadata['bin_values']}")  # fmt: skip
        if demo_warning(metadata):
            print(demo_warning(metadata))
    for path in argv[1:]:
        try:
            outputs = scorer.score(load_image(path, scorer.image_size))
        except Exception as e:  # noqa: BLE001 - one bad file must not stop the rest
            print(f"{path}: ERROR {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            continue
        distribution = " ".join(f"{p:.2f}" for p in outputs["distribution"])
        print(f"{path}\n  score {float(outputs['score']):.3f}\n  distribution  {distribution}")
        if "attributes" in outputs:  # a Table 1 baseline has none
            print("  attributes")
            print("\n".join(f"    {n:<17} {v:.2f}" for n, v in zip(names, outputs["attributes"])))


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
