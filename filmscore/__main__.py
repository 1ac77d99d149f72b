"""`python -m filmscore`: the command line, as the `filmscore` program runs it."""

from filmscore.cli.main import main

# Guarded: the dialogue worker process is started with "spawn", which imports this module again.
if __name__ == "__main__":
    raise SystemExit(main())
