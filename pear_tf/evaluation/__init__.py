"""Scoring a data set with a model, the DESIGN.md §3 metrics over it, reports and Table 1."""
