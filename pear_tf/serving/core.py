"""What REST and gRPC share: the models, one batcher per (model, version, signature), the checks, the metrics.

Both APIs parse their own request format into numpy inputs, then call ``ModelServer.predict``,
so an image gets the same answer, the same batching and the same refusals on either.
"""

import asyncio
import time

import numpy as np
import tensorflow as tf

from pear_tf.errors import op_error_summary
from pear_tf.serving import image_header
from pear_tf.serving.batcher import Batcher
from pear_tf.serving.errors import ServingError
from pear_tf.serving.metrics import ServingMetrics

# Signature name → its one input; both are exported by pear_tf.exporting.saved_model.
SIGNATURE_INPUTS = {"serving_default": "image_bytes", "predict_images": "images"}
REQUEST_MAX_PIXELS = 50_000_000  # larger images are refused from their header


class ServingConfig:
    """Server settings; see pear_tf.serve for the flags."""

    def __init__(self, max_batch_size=32, batch_timeout_ms=2.0, poll_seconds=2.0, max_pixels=REQUEST_MAX_PIXELS,
                 max_request_bytes=32 * 2**20, max_enqueued_batches=8):  # fmt: skip
        self.max_batch_size = max_batch_size
        self.batch_timeout_ms = batch_timeout_ms
        self.poll_seconds = poll_seconds
        self.max_pixels = max_pixels
        self.max_request_bytes = max_request_bytes
        self.max_enqueued_batches = max_enqueued_batches


class RequestRecord:
    """One request's labels for the metrics, filled in as the request is resolved."""

    def __init__(self, metrics, api):
        self.metrics, self.api = metrics, api
        self.model = self.version = self.signature = ""
        self.start = time.perf_counter()

    def finish(self, status):
        self.metrics.record(
            self.model, self.version, self.signature, self.api, status, time.perf_counter() - self.start
        )


class ModelServer:
    """The registry's models behind batchers; ``predict`` is the one scoring path."""

    def __init__(self, registry, config):
        self.registry = registry
        self.config = config
        self.metrics = ServingMetrics()
        self.batchers = {}

    def check_image(self, data, index):
        """Refuses an encoded image from its header (the model decodes it, once)."""
        problem = image_header.header_problem(data, self.config.max_pixels)
        if problem:
            raise ServingError(f"Instance {index}: image rejected, {problem.rstrip('.')}.")

    def check_tensor(self, model, array):
        """Refuses preprocessed images that are not [N, S, S, 3] finite numbers."""
        size = int(model.metadata["model_config"]["image_size"])
        if array.ndim != 4 or array.shape[1:] != (size, size, 3):
            raise ServingError(f"'images' must have shape [N, {size}, {size}, 3]; got {list(array.shape)}.")
        if not np.isfinite(array).all():
            raise ServingError("'images' holds NaN or infinite values.")

    async def predict(self, model, signature, inputs):
        """Outputs (name → [N, ...] numpy) of ``signature`` on checked ``inputs``, batched with other requests."""
        if signature not in model.signatures or signature not in SIGNATURE_INPUTS:
            raise ServingError(f"Unknown signature_name {signature!r}; this model has {sorted(SIGNATURE_INPUTS)}.")
        try:
            return await self._batcher(model, signature).submit(inputs)
        except tf.errors.InvalidArgumentError as e:
            found = None
            if signature == "serving_default":
                found = await asyncio.get_running_loop().run_in_executor(None, image_header.first_undecodable, inputs)
            if found is None:
                raise ServingError(f"The model refused the input: {op_error_summary(e.message)}") from None
            raise ServingError(f"Instance {found[0]}: image rejected, not decodable: {found[1]}") from None

    def run_signature(self, model, signature, batch):
        """One model call on a batch (in a worker thread)."""
        if signature == "serving_default":
            tensor = tf.constant(list(batch), tf.string)
        else:
            tensor = tf.constant(batch, tf.float32)
        outputs = model.signatures[signature](**{SIGNATURE_INPUTS[signature]: tensor})
        return {key: value.numpy() for key, value in outputs.items()}

    def _batcher(self, model, signature):
        key = (model.name, model.version, signature)
        if key not in self.batchers:
            config = self.config
            batcher = Batcher(lambda batch: self.run_signature(model, signature, batch), config.max_batch_size,
                              config.batch_timeout_ms / 1000, config.max_enqueued_batches)  # fmt: skip
            self.metrics.watch_batcher(key, batcher)
            self.batchers[key] = batcher
        return self.batchers[key]

    def status(self, name, version=None, label=None):
        """Versions of ``name`` (or the one asked for) that are served: [(version, "AVAILABLE")]."""
        if version is None and label is None:
            self.registry.get(name)  # NOT_FOUND for an unknown model or one with no version loaded
            return [(v, "AVAILABLE") for v in self.registry.versions(name)]
        return [(self.registry.get(name, version, label).version, "AVAILABLE")]

    def refresh(self):
        """Follows the disk (in a thread); returns {name: versions}."""
        return self.registry.refresh()

    def drop_unloaded(self):
        """Closes the batchers of versions no longer loaded (on the event loop)."""
        for key in [k for k in self.batchers if k[1] not in self.registry.versions(k[0])]:
            self.batchers.pop(key).close()
            self.metrics.forget_batcher(key)

    async def poll(self):
        """Loads new versions and unloads vanished ones, every ``poll_seconds``, without a restart."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.config.poll_seconds)
            await loop.run_in_executor(None, self.refresh)
            self.drop_unloaded()
