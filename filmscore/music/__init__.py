"""Writing the score: cue planning, the generators, the symbolic composer, and the music emotion recognition
that checks what they made."""
