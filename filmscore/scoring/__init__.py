"""The `filmscore run` flow: analyse, plan, compose, mix, mux, publish."""
