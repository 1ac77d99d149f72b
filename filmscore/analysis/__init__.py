"""Reading a film: shots, dialogue (VAD and ASR), emotion from the words, the pictures and the voice, and
their fusion into a per-shot timeline."""
