"""The symbolic composer: theory, the arrangement of each cue, MIDI, and rendering through a SoundFont."""
