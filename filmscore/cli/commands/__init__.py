"""One module per command, each a function of the parsed arguments that returns the exit code. Each imports
what it needs when it runs, so `filmscore --help` imports none of it."""
