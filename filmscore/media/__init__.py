"""Files in and out of ffmpeg: probing, the one decode pass, audio work files, and synthetic test films."""
