"""Tiny, randomly initialised neural models built on the spot, so the neural backends' real loading and
inference code runs offline (no weights can be downloaded where the tests run). Each is saved the way its
real counterpart is distributed: a CTranslate2 Whisper folder made by CTranslate2's converter, transformers
folders with save_pretrained, each with a tokenizer trained here."""

from __future__ import annotations

import json
from pathlib import Path

# Ekman's six and neutral, as j-hartmann's text model and FER2013 face models name them.
TEXT_LABELS = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
FACE_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
CORPUS = (
    "I am so happy today, what a wonderful day. Get out of here, I hate you! I am scared, something is in "
    "the dark. The old house was quiet and sad. We won, we won, this is amazing. A calm evening by the sea. "
    "a film still of a joyful, happy, exciting, thrilling, action, tense, frightening, angry, violent, "
    "melancholy, gloomy, lonely, calm, peaceful, tender, romantic, ordinary, everyday scene. "
    "upbeat orchestral film score strings piano gentle slow fast major minor key bpm percussion"
)


# Whisper's special tokens in their order: the timestamps follow <|notimestamps|>, and every token after
# <|startoftranscript|> that is not one of the others names a language.
WHISPER_SPECIALS = ("<|endoftext|>", "<|startoftranscript|>")
WHISPER_TASKS = ("<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>",
                 "<|notimestamps|>")  # fmt: skip
WHISPER_TIMESTAMPS = 1501  # <|0.00|> .. <|30.00|>
MULTILINGUAL_VOCAB = 51865  # CTranslate2 reads a vocabulary this large as a multilingual Whisper


def whisper_ct2(folder: Path, languages: tuple[str, ...] = ()) -> Path:
    """A random Whisper with Whisper's real audio front end (80 mel bins, 1500 audio positions) and one
    16-wide layer each side, with a byte-level BPE tokenizer trained here: saved by transformers, then
    converted with CTranslate2's own converter, as faster-whisper's models are made. With `languages` it
    is multilingual (its vocabulary padded to Whisper's size), else English only."""
    import ctranslate2
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, WhisperConfig, WhisperForConditionalGeneration

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    tokenizer.train_from_iterator([CORPUS], trainers.BpeTrainer(vocab_size=400, initial_alphabet=alphabet))
    specials = [*WHISPER_SPECIALS, *(f"<|{code}|>" for code in languages), *WHISPER_TASKS]
    tokenizer.add_special_tokens(specials)
    end = tokenizer.token_to_id("<|endoftext|>")
    vocab = tokenizer.get_vocab_size() + WHISPER_TIMESTAMPS
    config = WhisperConfig(
        vocab_size=max(vocab, MULTILINGUAL_VOCAB) if languages else vocab, num_mel_bins=80,
        encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2, d_model=16,
        encoder_ffn_dim=32, decoder_ffn_dim=32, max_source_positions=1500, max_target_positions=448,
        decoder_start_token_id=tokenizer.token_to_id("<|startoftranscript|>"), eos_token_id=end,
        pad_token_id=end, bos_token_id=end,
    )  # fmt: skip
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config)
    model.generation_config.suppress_tokens = []
    model.generation_config.begin_suppress_tokens = [end]
    if languages:
        model.generation_config.lang_to_id = {
            f"<|{c}|>": tokenizer.token_to_id(f"<|{c}|>") for c in languages
        }
    source = folder / "transformers"
    model.save_pretrained(source)
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", bos_token="<|endoftext|>",
        unk_token="<|endoftext|>", additional_special_tokens=specials[1:],
    ).save_pretrained(source)  # fmt: skip
    converted = folder / "ct2"
    converter = ctranslate2.converters.TransformersConverter(str(source), copy_files=["tokenizer.json"])
    converter.convert(str(converted), quantization="int8", force=True)
    if languages:
        # As the real multilingual conversions are laid out: CTranslate2 reads a Whisper as multilingual when
        # its vocabulary holds an empty token (whisper-base's token 50256, just before <|endoftext|>), and
        # detects languages among config.json's lang_ids.
        vocabulary = json.loads((converted / "vocabulary.json").read_text())
        vocabulary[end - 1] = ""
        (converted / "vocabulary.json").write_text(json.dumps(vocabulary))
        config = json.loads((converted / "config.json").read_text())
        config["lang_ids"] = [tokenizer.token_to_id(f"<|{code}|>") for code in languages]
        (converted / "config.json").write_text(json.dumps(config))
    return converted


def _word_tokenizer(folder: Path, kind: str = "bert"):  # type: ignore[no-untyped-def]
    """A WordPiece tokenizer trained on CORPUS, wrapped as transformers' fast tokenizer."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator([CORPUS], trainers.WordPieceTrainer(vocab_size=300, special_tokens=special))
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=64,
    )  # fmt: skip


def text_classifier(folder: Path) -> Path:
    """A one-layer BERT emotion classifier with the 7 labels of a real English emotion model."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    tokenizer = _word_tokenizer(folder)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=64, num_labels=len(TEXT_LABELS),
        id2label=dict(enumerate(TEXT_LABELS)), label2id={label: i for i, label in enumerate(TEXT_LABELS)},
    )  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def clip_model(folder: Path) -> Path:
    """A CLIP with one 16-wide layer per tower, 32-pixel images and a locally trained tokenizer."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    torch.manual_seed(0)
    tokenizer = _word_tokenizer(folder)
    layer = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}
    config = CLIPConfig(
        text_config={**layer, "vocab_size": len(tokenizer), "max_position_embeddings": 64,
                     "eos_token_id": tokenizer.sep_token_id, "pad_token_id": tokenizer.pad_token_id},
        vision_config={**layer, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )  # fmt: skip
    CLIPModel(config).save_pretrained(folder)
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def face_classifier(folder: Path) -> Path:
    """A one-layer ViT with the seven FER2013 expression labels."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(0)
    config = ViTConfig(
        image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, num_labels=len(FACE_LABELS), id2label=dict(enumerate(FACE_LABELS)),
        label2id={label: i for i, label in enumerate(FACE_LABELS)},
    )  # fmt: skip
    ViTForImageClassification(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def musicgen(folder: Path, max_positions: int = 128) -> Path:
    """A MusicGen built from configs as musicgen-small is laid out (a T5 text encoder, a 32 kHz EnCodec with
    4 codebooks at 50 frames a second, a decoder over the codebooks), one 16-wide layer each, with a T5
    tokenizer trained here. `max_positions` frames bound one window: 128 is 2.5 s, so cues longer than
    that exercise the continuation."""
    import torch
    from transformers import MusicgenConfig, MusicgenDecoderConfig, MusicgenForConditionalGeneration

    tokenizer = t5_tokenizer()
    text, audio = _tiny_encoders(tokenizer)
    decoder = MusicgenDecoderConfig(**_tiny_decoder(max_positions))
    torch.manual_seed(0)
    model = MusicgenForConditionalGeneration(
        MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)
    )
    _save_generator(model, folder)
    musicgen_processor(tokenizer).save_pretrained(folder)
    return folder


def musicgen_melody(folder: Path, max_positions: int = 400) -> Path:
    """A MusicGen-Melody as musicgen-melody is laid out (the decoder conditioned on text and on a 235-frame
    chroma), one 16-wide layer each, with a T5 tokenizer trained here. Saved with its tokenizer only: the
    melody processor's chroma extractor needs torchaudio, and filmscore computes the chroma itself."""
    import torch
    from transformers import (
        MusicgenMelodyConfig,
        MusicgenMelodyDecoderConfig,
        MusicgenMelodyForConditionalGeneration,
    )

    tokenizer = t5_tokenizer()
    text, audio = _tiny_encoders(tokenizer)
    decoder = MusicgenMelodyDecoderConfig(**_tiny_decoder(max_positions))
    config = MusicgenMelodyConfig(text_encoder=text, audio_encoder=audio, decoder=decoder, num_chroma=12,
                                  chroma_length=235)  # fmt: skip
    torch.manual_seed(0)
    _save_generator(MusicgenMelodyForConditionalGeneration(config), folder)
    tokenizer.save_pretrained(folder)
    return folder


def t5_tokenizer():  # type: ignore[no-untyped-def]
    """A Unigram tokenizer trained on CORPUS, wrapped as transformers' T5 tokenizer (MusicGen's)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import T5TokenizerFast

    unigram = Tokenizer(models.Unigram())
    unigram.pre_tokenizer = pre_tokenizers.Metaspace()
    special = ["<pad>", "</s>", "<unk>"]
    unigram.train_from_iterator(
        [CORPUS], trainers.UnigramTrainer(vocab_size=200, special_tokens=special, unk_token="<unk>")
    )
    unigram.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", unigram.token_to_id("</s>"))]
    )
    return T5TokenizerFast(tokenizer_object=unigram, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                           extra_ids=0)  # fmt: skip


def musicgen_processor(tokenizer):  # type: ignore[no-untyped-def]
    """MusicGen's processor: the T5 tokenizer, and EnCodec's feature extractor for audio prompts."""
    from transformers import EncodecFeatureExtractor, MusicgenProcessor

    extractor = EncodecFeatureExtractor(feature_size=1, sampling_rate=32000, padding_value=0.0)
    return MusicgenProcessor(feature_extractor=extractor, tokenizer=tokenizer)


def _tiny_encoders(tokenizer):  # type: ignore[no-untyped-def]
    """A one-layer T5 text encoder and a 32 kHz EnCodec with musicgen-small's 4 codebooks of 2048."""
    from transformers import EncodecConfig, T5Config

    text = T5Config(vocab_size=len(tokenizer), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2,
                    pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)  # fmt: skip
    audio = EncodecConfig(
        sampling_rate=32000, audio_channels=1, upsampling_ratios=[8, 5, 4, 4], target_bandwidths=[2.2],
        codebook_size=2048, codebook_dim=16, hidden_size=16, num_filters=4, num_residual_layers=1,
        num_lstm_layers=1, normalize=False,
    )  # fmt: skip
    return text, audio


def _tiny_decoder(max_positions: int) -> dict:
    return {
        "vocab_size": 2048, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
        "ffn_dim": 32, "num_codebooks": 4, "max_position_embeddings": max_positions, "pad_token_id": 2048,
        "bos_token_id": 2048,
    }  # fmt: skip


def _save_generator(model, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """Save with the generation settings MusicGen's checkpoints carry: start and pad on the extra code."""
    model.generation_config.decoder_start_token_id = 2048
    model.generation_config.pad_token_id = 2048
    model.save_pretrained(folder)
