"""A local server with TF Serving's contract over savedmodels/ (DESIGN.md §7, §11): REST and gRPC,
model config files, bounded batching, Prometheus metrics, and a page to score photos."""
