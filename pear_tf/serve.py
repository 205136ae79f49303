"""Serve exported PEAR models over TF Serving's REST API, locally.

    python -m pear_tf.serve --model_base_path=savedmodels/demo --model_name=demo --port=8501

then ``curl -d '{"instances": [{"b64": "'$(base64 -w0 photo.jpg)'"}]}' localhost:8501/v1/models/demo:predict``.
Serves the highest version and picks up new ones without a restart.
"""

import os

from absl import app, flags

from pear_tf import cli

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("model_base_path", "savedmodels/demo", "The model's base folder of numbered versions.")
    flags.DEFINE_string("model_name", None, "Name in the URL (default: the base folder's name).")
    flags.DEFINE_string("host", "127.0.0.1", "Address to bind; 0.0.0.0 exposes the server to the network.")
    flags.DEFINE_integer("port", 8501, "REST port (TF Serving's default is 8501).")
    flags.DEFINE_integer("max_batch_size", 32, "Most images per model call; concurrent requests are batched up to it.")
    flags.DEFINE_float("batch_timeout_ms", 2.0, "How long a batch waits for more requests.")
    flags.DEFINE_float("poll_seconds", 2.0, "How often new versions are looked for.")
    flags.DEFINE_integer("max_request_mb", 32, "Largest request body accepted (413 above).")
    flags.DEFINE_integer("max_image_pixels", 50_000_000, "Images declaring more pixels are refused (400).")


def main(argv):
    del argv
    from pear_tf.serving.app import ServingConfig, serve

    name = FLAGS.model_name or os.path.basename(os.path.normpath(FLAGS.model_base_path))
    config = ServingConfig(
        max_batch_size=FLAGS.max_batch_size,
        batch_timeout_ms=FLAGS.batch_timeout_ms,
        poll_seconds=FLAGS.poll_seconds,
        max_pixels=FLAGS.max_image_pixels,
        max_request_bytes=FLAGS.max_request_mb * 2**20,
    )
    serve(name, FLAGS.model_base_path, config, FLAGS.host, FLAGS.port)


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(main)
