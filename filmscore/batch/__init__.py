"""Scoring many films: inputs, the manifest, local processes or Ray."""
