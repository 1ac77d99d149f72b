"""The settings table, the pipeline presets and the model manifest (package data), and the models on this
machine."""
