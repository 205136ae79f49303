"""Start a tf.data service dispatcher or worker: input preprocessing on other machines' CPUs.

One dispatcher, any number of workers; training sends its pipeline to the dispatcher:

    python -m pear_tf.data_service --role=dispatcher --port=5050
    python -m pear_tf.data_service --role=worker --port=5051 --dispatcher_address=HOST:5050
    python -m pear_tf.train --data_format=resized --cache_dir=DIR --data_service_address=grpc://HOST:5050

(``python -m pear_tf.data.service`` runs this command too.) The workers read the resized
cache (pear_tf.data.resized) themselves, so --cache_dir must name the same folder on
every machine (a shared file system, or gs://). Each worker runs the training pipeline's
read, shuffle, random crop and flip and batching on the splits (shard files) the
dispatcher hands it; training receives the batches (see pipeline.distribute). The
command serves until it is stopped.
"""

import socket

from absl import app, flags

from pear_tf import cli
from pear_tf.data import service

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_enum("role", None, ["dispatcher", "worker"], "Which server to run.")
    flags.DEFINE_integer("port", 5050, "Port to serve on.")
    flags.DEFINE_string("dispatcher_address", None, "The dispatcher's host:port (--role=worker).")
    flags.DEFINE_string(
        "worker_address", None, "host:%port% that training reaches this worker at (default: this host's name)."
    )
    flags.DEFINE_string("work_dir", None, "Dispatcher journal folder: a restarted dispatcher resumes its jobs.")
    flags.mark_flag_as_required("role")


def main(argv):
    del argv
    if FLAGS.role == "dispatcher":
        server = service.start_dispatcher(FLAGS.port, FLAGS.work_dir)
        print(f"tf.data service dispatcher at {server.target}: train with --data_service_address={server.target}")
    else:
        if not FLAGS.dispatcher_address:
            raise app.UsageError("--role=worker needs --dispatcher_address=HOST:PORT.")
        address = FLAGS.worker_address or f"{socket.gethostname()}:%port%"
        server = service.start_worker(FLAGS.dispatcher_address, FLAGS.port, address)
        print(f"tf.data service worker on port {FLAGS.port}, registered with {FLAGS.dispatcher_address}")
    server.join()


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
