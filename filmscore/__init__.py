"""filmscore: reads a film's emotion from its dialogue, pictures and sound, and scores it."""

__version__ = "0.2.0"
