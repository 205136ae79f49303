"""tf.data service servers: a dispatcher, and workers that run the training pipeline's preprocessing.

The command is ``python -m pear_tf.data_service`` (``python -m pear_tf.data.service`` runs
it too); here are the servers it starts, which read no flags. Training reaches them with
``--data_service_address`` (see pipeline.distribute). TensorFlow is imported inside the
functions, so that ``python -m pear_tf.data.service`` reaches the command, which loads it
without its start-up noise, first.
"""


def start_dispatcher(port=0, work_dir=None):
    """A tf.data service dispatcher on ``port`` (0: any free port); its address is ``.target``.

    With ``work_dir`` it journals its state there (fault-tolerant mode), so a restarted
    dispatcher carries on with the jobs in progress.
    """
    import tensorflow as tf

    config = tf.data.experimental.service.DispatcherConfig(
        port=port, work_dir=work_dir, fault_tolerant_mode=bool(work_dir)
    )
    return tf.data.experimental.service.DispatchServer(config)


def start_worker(dispatcher_address, port=0, worker_address=None):
    """A tf.data service worker that registers with the dispatcher at ``dispatcher_address``.

    Args:
      dispatcher_address: ``host:port`` (or ``grpc://host:port``) of the dispatcher.
      port: the worker's port (0: any free port).
      worker_address: the address clients reach this worker at, ``%port%`` standing for
        its port; None is TensorFlow's ``localhost:%port%`` (one machine only).
    """
    import tensorflow as tf

    config = tf.data.experimental.service.WorkerConfig(
        dispatcher_address=dispatcher_address.removeprefix("grpc://"), port=port, worker_address=worker_address
    )
    return tf.data.experimental.service.WorkerServer(config)


if __name__ == "__main__":
    # `python -m pear_tf.data.service`, as typed before the command moved to the package root.
    import runpy

    runpy.run_module("pear_tf.data_service", run_name="__main__", alter_sys=True)
