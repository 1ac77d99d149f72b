"""Which backends each stage has, what each needs and where its class lives: the registries, as data.

The settings check names against them here, below the stages; each stage package creates its backends from
its registry (typed there with its own base class), and nothing is imported until a backend is created.
"""

from __future__ import annotations

from typing import Any

from filmscore.core.registry import Registry

ASR: Registry[Any] = Registry("ASR")
ASR.register(
    "whisper",
    "filmscore.analysis.asr.whisper:WhisperAsr",
    requires=("faster_whisper", "ctranslate2"),
    description="Whisper through faster-whisper: tiny.en ships with filmscore (embedded, offline); other "
    "languages with the multilingual extra; larger models with filmscore models pull whisper-small",
    neural=True,
)
ASR.register(
    "pocketsphinx",
    "filmscore.analysis.asr.sphinx:PocketsphinxAsr",
    requires=("pocketsphinx",),
    description="CMU PocketSphinx with its bundled US English model (embedded fallback, offline)",
    takes_model=True,
)

TEXT_EMOTION: Registry[Any] = Registry("text emotion")
TEXT_EMOTION.register(
    "lexicon",
    "filmscore.analysis.text.lexicon:LexiconTextEmotion",
    requires=("vaderSentiment", "empath"),
    description="VADER valence, filmscore's cue words of threat, grief, joy and calm, and Empath arousal "
    "(embedded, no model)",
)
TEXT_EMOTION.register(
    "transformers",
    "filmscore.analysis.text.classifier:TransformersTextEmotion",
    requires=("torch", "transformers"),
    extra="neural",
    description="a transformers emotion classifier, labels placed on the valence/arousal plane (neural; "
    "filmscore models pull emotion-english-distilroberta)",
    neural=True,
)

VISUAL_EMOTION: Registry[Any] = Registry("visual emotion")
VISUAL_EMOTION.register(
    "features",
    "filmscore.analysis.visual:PictureFeatureEmotion",
    requires=("cv2",),
    description="brightness, saturation, colour, motion, cut rate and faces (embedded, no model)",
)
VISUAL_EMOTION.register(
    "clip",
    "filmscore.analysis.visual.clip:ClipVisualEmotion",
    requires=("torch", "transformers", "cv2", "PIL"),
    extra="neural",
    description="CLIP zero-shot over mood prompts, and a facial-expression model with --face-model (neural; "
    "filmscore models pull clip-vit-base-patch32)",
    neural=True,
)

GENERATORS: Registry[Any] = Registry("music generator")
GENERATORS.register(
    "symbolic",
    "filmscore.music.generators.symbolic:SymbolicGenerator",
    requires=("mido",),
    description="rule-based composer rendered through a General MIDI SoundFont with FluidSynth (embedded)",
)
GENERATORS.register(
    "library",
    "filmscore.music.generators.library:LibraryGenerator",
    requires=("librosa",),
    description="excerpts of the user's own music chosen by emotion and tempo (needs --library DIR)",
)
GENERATORS.register(
    "musicgen",
    "filmscore.music.generators.musicgen:MusicgenGenerator",
    requires=("torch", "transformers"),
    extra="neural",
    description="Meta's MusicGen through transformers, a text prompt per cue, continued past its 30 s window "
    "(neural; filmscore models pull musicgen-small; CC-BY-NC weights)",
    neural=True,
)

MER: Registry[Any] = Registry("music emotion")
MER.register(
    "features",
    "filmscore.music.mer:FeatureMer",
    requires=("librosa",),
    description="interpretable librosa features with weights calibrated on rendered chorales (embedded)",
)
NO_MER = "none"  # --mer none: the music is not checked

# filmscore's own detector first (the default), then PySceneDetect's by its own names; each is created
# with its shortest scene in frames and speaks PySceneDetect's detector interface.
SHOT_DETECTORS: Registry[Any] = Registry("shot detector")
SHOT_DETECTORS.register(
    "layered",
    "filmscore.analysis.cut_detector:LayeredDetector",
    requires=("cv2",),
    description="colour quantiles and block layout, each against the shot's own change: through grain, "
    "noise, patterns and pans (the default)",
)
for _name, _class, _how in (
    ("adaptive", "AdaptiveDetector", "frame-to-frame change against its rolling average"),
    ("content", "ContentDetector", "change of hue, saturation, brightness and edges over a threshold"),
    ("histogram", "HistogramDetector", "change of the luma histogram"),
    ("hash", "HashDetector", "change of a perceptual hash of the picture"),
):
    SHOT_DETECTORS.register(
        _name,
        f"scenedetect.detectors:{_class}",
        requires=("scenedetect",),
        description=f"PySceneDetect: {_how}",
    )

# By the manifest's kind of model (filmscore/config/manifest.toml): the registry whose backends load it.
BY_MODEL_KIND: dict[str, Registry[Any]] = {
    "asr": ASR,
    "text_emotion": TEXT_EMOTION,
    "visual_emotion": VISUAL_EMOTION,
    "music_generator": GENERATORS,
    "music_emotion": MER,
}
