"""Models: canonical events and dimensions from ``raw``, then rollups from the canonical layer."""
