"""filmscore's version: in report.json, the analysis cache's keys and `filmscore --version`."""

__version__ = "0.2.0"
