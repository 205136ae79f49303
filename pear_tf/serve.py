"""Serve exported PEAR models over TF Serving's REST and gRPC APIs, locally.

    python -m pear_tf.serve --model_base_path=savedmodels/demo --model_name=demo

then open http://127.0.0.1:8501/ (a page to score photos), or
``curl -d '{"instances": [{"b64": "'$(base64 -w0 photo.jpg)'"}]}' localhost:8501/v1/models/demo:predict``,
or use TF Serving's gRPC client on port 8500. Serves the latest version and follows the
disk: new versions are loaded and vanished ones unloaded without a restart. Several
models, version policies and labels: ``--model_config_file`` (TF Serving's format).
"""

import os
import sys

from absl import app, flags

from pear_tf import cli

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("model_base_path", "savedmodels/demo", "The model's base folder of numbered versions.")
    flags.DEFINE_string("model_name", None, "Name in the URL (default: the base folder's name).")
    flags.DEFINE_string("model_config_file", None,
                        "TF Serving's text-format ModelServerConfig (several models, version policies, labels); "
                        "replaces --model_base_path and --model_name.")  # fmt: skip
    flags.DEFINE_string("host", "127.0.0.1", "Address to bind; 0.0.0.0 exposes the server to the network.")
    flags.DEFINE_integer("port", 8501, "REST port (TF Serving's default is 8501).")
    flags.DEFINE_integer("grpc_port", 8500, "gRPC port (TF Serving's default is 8500); -1 serves no gRPC.")
    flags.DEFINE_integer("max_batch_size", 32, "Most images per model call; larger requests are split.")
    flags.DEFINE_float("batch_timeout_ms", 2.0, "How long a batch waits for more requests.")
    flags.DEFINE_integer("max_enqueued_batches", 8,
                         "Batch queue capacity, in batches; beyond it requests are refused at once "
                         "(REST 503 with Retry-After, gRPC RESOURCE_EXHAUSTED).")  # fmt: skip
    flags.DEFINE_float("poll_seconds", 2.0, "How often the model folders are looked at for new or removed versions.")
    flags.DEFINE_integer("max_request_mb", 32, "Largest request body accepted (413 above).")
    flags.DEFINE_integer("max_image_pixels", 120_000_000, "Images declaring more pixels are refused (400).")
    flags.DEFINE_enum(
        "precision", None, ["float32", "bfloat16", "auto"],
        "What the served SavedModels compute in. Unset: as exported. bfloat16: float32 exports run their "
        "convolutions in bfloat16; auto: bfloat16 when this machine's CPU has it natively (AMX, AVX512-BF16). "
        "A version that cannot (float32 asked of a bfloat16 export) is not loaded, and the log says why.",
    )  # fmt: skip


def main(argv):
    del argv
    from pear_tf.serving.core import ServingConfig
    from pear_tf.serving.model_config import default_spec, read_model_config
    from pear_tf.serving.server import serve

    if FLAGS.model_config_file:
        specs = read_model_config(FLAGS.model_config_file)
    else:
        name = FLAGS.model_name or os.path.basename(os.path.normpath(FLAGS.model_base_path))
        specs = [default_spec(name, FLAGS.model_base_path)]
    config = ServingConfig(
        max_batch_size=FLAGS.max_batch_size,
        batch_timeout_ms=FLAGS.batch_timeout_ms,
        poll_seconds=FLAGS.poll_seconds,
        max_pixels=FLAGS.max_image_pixels,
        max_request_bytes=FLAGS.max_request_mb * 2**20,
        max_enqueued_batches=FLAGS.max_enqueued_batches,
        precision=FLAGS.precision,
    )
    serve(specs, config, FLAGS.host, FLAGS.port, None if FLAGS.grpc_port < 0 else FLAGS.grpc_port)
    # Both servers have stopped: end here, without waiting at exit for threads TensorFlow, gRPC or the
    # loop's executor may still hold (serving/server.py says why).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
