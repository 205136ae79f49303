"""Personalisation: one person's taste from a few ratings (../shared/DESIGN.md §12, §13)."""
