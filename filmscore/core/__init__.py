"""The ground floor: errors, atomic outputs, progress, backend registries, worker processes, the
valence/arousal type and the torch helpers. It imports nothing else of filmscore."""
