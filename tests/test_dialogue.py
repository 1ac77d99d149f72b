from __future__ import annotations

import jiwer
import pytest
import soundfile

from filmscore.analysis.dialogue import DialogueOptions, lines_by_shot, transcribe, voice_regions
from filmscore.analysis.shots import shots_from_cuts
from filmscore.media.probe import AudioClip, extract_audio, probe
from tests.synthetic import Line, ShotSpec, make_film

from .conftest import LIBRIVOX


def _reference_transcripts() -> dict[str, str]:
    references = {}
    for row in (LIBRIVOX / "transcription").read_text().splitlines():
        text, _, utt = row.rpartition("(")
        references[utt.strip(" )")] = text.replace("<s>", "").replace("</s>", "").strip()
    return references


@pytest.mark.skipif(not LIBRIVOX.exists(), reason="Debian's pocketsphinx-testdata is not installed")
def test_the_pocketsphinx_fallback_still_hears_real_recorded_speech():
    references = _reference_transcripts()
    truths, hypotheses = [], []
    for utt, reference in references.items():
        samples, rate = soundfile.read(LIBRIVOX / f"{utt}.wav", dtype="float32")
        transcript = transcribe(AudioClip(samples, rate), DialogueOptions(asr="pocketsphinx"))
        truths.append(reference)
        hypotheses.append(" ".join(u.text for u in transcript.utterances))
    error = jiwer.wer(truths, hypotheses)
    # PocketSphinx's small English model on LibriVox audiobook speech: about a quarter of words wrong
    # (Whisper's figures are in test_whisper.py).
    assert error < 0.4, f"WER {error:.2f}: {hypotheses}"


def test_speech_is_found_only_where_someone_speaks(media_dir):
    film = make_film(
        media_dir / "speech_then_silence.mp4",
        [ShotSpec("grey", 3.0), ShotSpec("bars", 4.0, Line("Good morning, how are you today?", at_s=0.5))],
    )
    regions = voice_regions(extract_audio(probe(film)), DialogueOptions())
    assert regions, "the spoken line was not found"
    assert all(start >= 3.0 for start, _ in regions)
    assert regions[0][0] == pytest.approx(3.5, abs=0.3)


def test_words_have_timings_inside_their_line(mood_films):
    transcript = transcribe(extract_audio(probe(mood_films["happy"])), DialogueOptions())
    assert transcript.backend == "whisper"
    words = [w for u in transcript.utterances for w in u.words]
    assert len(words) >= 5
    for word in words:
        assert 0.0 <= word.start_s < word.end_s <= 6.0
    starts = [w.start_s for w in words]
    assert starts == sorted(starts)
    assert {"wonderful", "happy", "glad", "love"} & {w.word for w in words}


def test_silence_gives_an_empty_transcript(picture_films):
    transcript = transcribe(extract_audio(probe(picture_films["dark_static"])), DialogueOptions())
    assert transcript.utterances == () and transcript.speech_regions == ()


def test_lines_are_split_at_cuts(mood_films):
    transcript = transcribe(extract_audio(probe(mood_films["happy"])), DialogueOptions())
    words = [w for u in transcript.utterances for w in u.words]
    middle = words[len(words) // 2].start_s
    shots = shots_from_cuts([round(middle * 25)], frame_count=150, fps=25.0)
    first, second = lines_by_shot(transcript, shots)
    assert first and second
    assert f"{first} {second}".split() == [w.word for w in words]


def test_passages_are_shared_between_workers_in_order_and_by_amount_of_speech():
    from filmscore.analysis.dialogue import split_regions

    starts = [0.0, 2.0, 4.0, 6.0, 8.0]
    regions = tuple((start, start + n) for start, n in zip(starts, [1, 1, 1, 1, 4], strict=True))
    groups = split_regions(regions, 2)
    assert [start for group in groups for start, _ in group] == starts
    assert [len(g) for g in groups] == [4, 1]  # four seconds each side
    assert split_regions((), 2) == []
    assert len(split_regions(regions[:1], 2)) == 1


def test_a_second_speech_worker_starts_only_for_more_than_30_s_of_speech():
    from filmscore.analysis.dialogue import speech_workers

    assert speech_workers((), 2) == 1
    assert speech_workers(((0.0, 10.0), (20.0, 40.0)), 2) == 1  # 30 s
    assert speech_workers(((0.0, 10.0), (20.0, 41.0)), 2) == 2
    assert speech_workers(((0.0, 600.0),), 2) == 2


def test_a_silent_film_has_an_empty_transcript_in_no_language():
    from filmscore.analysis.dialogue import merge_transcripts

    transcript = merge_transcripts([], (), DialogueOptions())
    assert transcript.utterances == () and transcript.language == "und"


def test_words_in_spans_agree_with_a_scan_of_every_word():
    import random

    from filmscore.analysis.asr import Utterance, Word
    from filmscore.analysis.dialogue import Transcript

    rng = random.Random(5)
    lines, clock = [], 0.0
    for n in range(60):
        words = []
        for k in range(rng.randint(0, 6)):
            # Words may overlap their neighbours, and a line may begin before the last one ended.
            start = clock + rng.uniform(-0.2, 0.4)
            words.append(Word(f"w{n}-{k}", start, start + rng.uniform(0.05, 0.6), 1.0))
            clock = start + 0.3
        lines.append(Utterance(clock, clock + 1, " ".join(w.word for w in words), tuple(words)))
    transcript = Transcript(tuple(lines), (), "test", "en")
    spans = [(a, a + rng.uniform(0, 8)) for a in (rng.uniform(-2, clock) for _ in range(80))] + [(3.0, 3.0)]

    def scan(start_s: float, end_s: float) -> tuple[Word, ...]:
        every = (w for line in transcript.utterances for w in line.words)
        return tuple(w for w in every if start_s <= (w.start_s + w.end_s) / 2 < end_s)

    assert transcript.words_in_spans(spans) == tuple(scan(a, b) for a, b in spans)
    assert transcript.words_in(*spans[0]) == scan(*spans[0])
    assert Transcript((), (), "test", "en").words_in_spans(spans[:3]) == ((), (), ())
