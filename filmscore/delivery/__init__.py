"""Putting the music under the film: ducking, loudness and true peak, and the mux."""
