"""The model core on the GPU, where there is one (skipped on the CPU): the
torch Kokoro, the style fit, the speaker encoder and training all run on
``device.torch_device()`` and give what they give on the CPU."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import reference_of
from voiceclone.audio.clips import resample
from voiceclone.constants import SAMPLE_RATE

pytestmark = pytest.mark.gpu
TEXT = "The quick brown fox jumps over the lazy dog, and then it runs back home."


def test_torch_kokoro_lives_on_the_gpu_and_sounds_like_the_onnx_model():
    from voiceclone.audio.speaker import cosine, default_encoder
    from voiceclone.engines.kokoro import shared_model, style_packs
    from voiceclone.engines.kokoro_torch import speak, tokens_for, torch_kokoro
    from voiceclone.runtime.device import torch_device

    assert torch_device() == "cuda"
    model = torch_kokoro()
    assert {p.device.type for p in model.parameters()} == {"cuda"}
    row = style_packs()["jm_kumo"][len(tokens_for(TEXT)) - 1]
    copy, _ = speak(model, TEXT, row)
    onnx = shared_model().run(tokens_for(TEXT), style_packs()["jm_kumo"], 1.0)
    encoder = default_encoder()
    embeddings = [encoder.embed(resample(a, 24_000, SAMPLE_RATE)) for a in (copy, onnx)]
    assert cosine(*embeddings) > 0.98


def test_style_fit_on_the_gpu_lowers_the_held_out_loss(corpus):
    from voiceclone.cloning.style import fit_style
    from voiceclone.engines.kokoro import style_packs

    clips, texts = reference_of(corpus, "rms", seconds=12)
    fit = fit_style(clips, texts, style_packs()["jm_kumo"])
    summary = fit.summary()
    assert np.isfinite(fit.offset).all() and fit.offset.shape == (256,)
    assert summary["held_out_loss"][1] < summary["held_out_loss"][0], summary
    assert summary["logf0_mse"][1] < summary["logf0_mse"][0], summary


def test_speaker_encoder_on_the_gpu_agrees_with_itself(corpus):
    from voiceclone.audio.speaker import cosine, default_encoder

    clips, _ = reference_of(corpus, "slt", seconds=8)
    encoder = default_encoder()
    assert str(encoder._encoder.device).startswith("cuda")
    a, b = encoder.embed(np.concatenate(clips)), encoder.embed(np.concatenate(clips[::-1]))
    assert cosine(a, b) > 0.95
