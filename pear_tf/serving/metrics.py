"""The server's Prometheus metrics, at TF Serving's path ``/monitoring/prometheus/metrics``.

Each server has its own ``CollectorRegistry``, so several servers (tests) do not share counts.
"""

import prometheus_client

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServingMetrics:
    """Requests, latency, batch sizes and queue depth, by model, version and signature."""

    def __init__(self):
        self.registry = prometheus_client.CollectorRegistry()
        self.requests = prometheus_client.Counter(
            "pear_serving_requests", "Requests by model, version, signature, API and status code.",
            ["model", "version", "signature", "api", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = prometheus_client.Histogram(
            "pear_serving_request_latency_seconds", "Request latency, from its arrival to its answer.",
            ["model", "api"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.batch_size = prometheus_client.Histogram(
            "pear_serving_batch_size", "Images per model call.",
            ["model", "version", "signature"], buckets=BATCH_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.queue_depth = prometheus_client.Gauge(
            "pear_serving_queue_depth", "Images waiting in the batch queue.",
            ["model", "version", "signature"], registry=self.registry,
        )  # fmt: skip

    def record(self, model, version, signature, api, status, seconds):
        """Counts one finished request."""
        self.requests.labels(model, str(version), signature, api, status).inc()
        self.latency.labels(model, api).observe(seconds)

    def watch_batcher(self, labels, batcher):
        """Reports ``batcher``'s batch sizes and queue depth under ``labels`` (model, version, signature)."""
        labels = tuple(str(v) for v in labels)
        histogram = self.batch_size.labels(*labels)
        batcher.on_batch = histogram.observe
        self.queue_depth.labels(*labels).set_function(lambda: batcher.queued)

    def forget_batcher(self, labels):
        """Drops the queue gauge of a closed batcher (its counters stay)."""
        labels = tuple(str(v) for v in labels)
        try:
            self.queue_depth.remove(*labels)
        except KeyError:
            pass

    def exposition(self):
        """(body bytes, content type) of the text exposition format."""
        return prometheus_client.generate_latest(self.registry), prometheus_client.CONTENT_TYPE_LATEST
