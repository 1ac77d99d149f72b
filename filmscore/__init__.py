"""filmscore: reads a film's emotion from its dialogue, pictures and sound, and scores it.

The front door (docs/api.md):

    import filmscore
    analysis = filmscore.analyze("film.mp4")          # the reading: shots, transcript, emotion
    scored = filmscore.score("film.mp4", style="piano")  # the scored film, its stem and report
    report = filmscore.read_report("film.scored.filmscore")
    filmscore.cache_info(), filmscore.clear_cache()    # the readings and renders kept for the next run
"""

from filmscore.api import analyze, cache_info, clear_cache, option_names, read_report, score
from filmscore.core.errors import (
    DependencyError,
    FilmscoreError,
    InputError,
    OutputError,
    UsageError,
)
from filmscore.core.progress import Progress
from filmscore.core.version import __version__

__all__ = [
    "DependencyError",
    "FilmscoreError",
    "InputError",
    "OutputError",
    "Progress",
    "UsageError",
    "__version__",
    "analyze",
    "cache_info",
    "clear_cache",
    "option_names",
    "read_report",
    "score",
]
