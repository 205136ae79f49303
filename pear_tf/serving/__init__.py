"""A local, TF-Serving-compatible REST endpoint over savedmodels/ (DESIGN.md §7)."""
