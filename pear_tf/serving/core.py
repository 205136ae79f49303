"""What REST and gRPC share: the models, one batcher per (model, version, signature), the checks, the metrics.

Both APIs parse their own request format into numpy inputs, then call ``ModelServer.predict``,
so an image gets the same answer, the same batching and the same refusals on either.
"""

import asyncio
import time

import numpy as np
import tensorflow as tf

from pear_tf.data import host_decode
from pear_tf.errors import op_error_summary
from pear_tf.inference.encoded import graph_decodes, merge_outputs, score_encoded
from pear_tf.serving.batcher import Batcher
from pear_tf.serving.errors import ServingError
from pear_tf.serving.metrics import ServingMetrics

# Signature name → its one input; all are exported by pear_tf.exporting.saved_model.
SIGNATURE_INPUTS = {"serving_default": "image_bytes", "predict_pixels": "pixels", "predict_images": "images"}
REQUEST_MAX_PIXELS = host_decode.MAX_PIXELS  # larger images are refused from their header


def as_object_vector(array):
    """[N] object array of the N images of ``array`` [N, H, W, 3]."""
    vector = np.empty(len(array), object)
    for i, image in enumerate(array):
        vector[i] = image
    return vector


class ServingConfig:
    """Server settings; see pear_tf.serve for the flags."""

    def __init__(self, max_batch_size=32, batch_timeout_ms=2.0, poll_seconds=2.0, max_pixels=REQUEST_MAX_PIXELS,
                 max_request_bytes=32 * 2**20, max_enqueued_batches=8, precision=None):  # fmt: skip
        self.max_batch_size = max_batch_size
        self.batch_timeout_ms = batch_timeout_ms
        self.poll_seconds = poll_seconds
        self.max_pixels = max_pixels
        self.max_request_bytes = max_request_bytes
        self.max_enqueued_batches = max_enqueued_batches
        # What every model computes in (issue 25): None as exported; float32, bfloat16, auto (inference/precision.py).
        self.precision = precision


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
        """The Header of an encoded image, read without decoding it; ServingError if it cannot be used."""
        if isinstance(data, str):  # tf.make_ndarray pads a DT_STRING value list that is too short with ''
            data = data.encode()
        try:
            return host_decode.probe(bytes(data), self.config.max_pixels)
        except host_decode.ImageError as e:
            raise ServingError(f"Instance {index}: image rejected, {str(e).rstrip('.')}.") from None

    def check_tensor(self, model, array):
        """Refuses preprocessed images that are not [N, S, S, 3] finite numbers."""
        size = int(model.metadata["model_config"]["image_size"])
        if array.ndim != 4 or array.shape[1:] != (size, size, 3):
            raise ServingError(f"'images' must have shape [N, {size}, {size}, 3]; got {list(array.shape)}.")
        if not np.isfinite(array).all():
            raise ServingError("'images' holds NaN or infinite values.")

    def check_pixels(self, array):
        """Refuses decoded pixels that are not uint8 [N, H, W, 3] within the pixel limit."""
        if array.ndim != 4 or array.shape[3] != 3 or 0 in array.shape:
            raise ServingError(f"'pixels' must have shape [N, H, W, 3] (upright RGB); got {list(array.shape)}.")
        if array.shape[1] * array.shape[2] > self.config.max_pixels:
            raise ServingError(
                f"'pixels' images of {array.shape[2]}x{array.shape[1]} exceed the limit of {self.config.max_pixels} "
                "pixels; downscale them first."
            )

    async def predict(self, model, signature, inputs):
        """Outputs (name → [N, ...] numpy) of ``signature`` on checked ``inputs``, batched with other requests."""
        if signature not in model.signatures or signature not in SIGNATURE_INPUTS:
            known = sorted(set(SIGNATURE_INPUTS) & set(model.signatures))
            raise ServingError(f"Unknown signature_name {signature!r}; this model has {known}.")
        if signature == "predict_pixels":
            inputs = as_object_vector(inputs)  # images of other sizes, from other requests, share batches
        try:
            return await self._batcher(model, signature).submit(inputs)
        except host_decode.ImageError as e:
            raise ServingError(f"Instance {e.index}: image rejected, {str(e).rstrip('.')}.") from None
        except tf.errors.InvalidArgumentError as e:
            found = None
            if signature == "serving_default":
                found = await asyncio.get_running_loop().run_in_executor(None, self.first_undecodable, inputs)
            if found is None:
                raise ServingError(f"The model refused the input: {op_error_summary(e.message)}") from None
            raise ServingError(f"Instance {found[0]}: image rejected, not decodable: {found[1]}") from None

    def first_undecodable(self, images):
        """(index, reason) of the first encoded image the one decode rejects, or None (after a batch failed)."""
        for index, data in enumerate(images):
            try:
                host_decode.decode_bytes(bytes(data), max_pixels=self.config.max_pixels)
            except host_decode.ImageError as e:
                return index, str(e)
        return None

    def run_signature(self, model, signature, batch):
        """One model call on a batch (in a worker thread); encoded images go through the one decode's routing."""
        if signature == "serving_default":
            size = int(model.metadata["model_config"]["image_size"])
            return score_encoded(model.signatures, list(batch), size, self.config.max_pixels,
                                 in_graph=graph_decodes(model.metadata))  # fmt: skip
        if signature == "predict_pixels":
            function = model.signatures[signature]
            by_size = {}
            for i, image in enumerate(batch):
                by_size.setdefault(image.shape, []).append(i)
            parts = [(indices, function(pixels=np.stack([batch[i] for i in indices]))) for indices in by_size.values()]
            return merge_outputs(parts, len(batch))
        outputs = model.signatures[signature](images=tf.constant(batch, tf.float32))
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
