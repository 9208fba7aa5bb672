"""Metrics by property: identity scores best, scores worsen as noise rises,
delays are found, values agree with the reference packages, refusals say why."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.metrics import (
    CHEAP,
    INTRUSIVE,
    MetricSettings,
    estimate_delay,
    si_sdr,
)
from evaluation.scoring import score
from tests.conftest import SENTENCE

NOISE_LEVELS = (0.002, 0.01, 0.04, 0.12)
SPECTRAL = ("pesq_wb", "pesq_nb", "stoi", "estoi", "si_sdr", "mcd", "lsd", "mel_distance")


def _noisy(x: np.ndarray, level: float, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(len(x)).astype(np.float32)
    return np.clip(x + level * noise, -1, 1).astype(np.float32)


@pytest.fixture(scope="module")
def noise_ladder(paragraph_speech):
    clean = score(paragraph_speech, paragraph_speech, metrics=INTRUSIVE).values()
    noisy = [
        score(_noisy(paragraph_speech, lvl), paragraph_speech, metrics=INTRUSIVE).values()
        for lvl in NOISE_LEVELS
    ]
    return clean, noisy


def test_identity_scores_best(noise_ladder):
    clean, noisy = noise_ladder
    assert clean["pesq_wb"] > 4.5 and clean["pesq_nb"] > 4.4
    assert clean["stoi"] == pytest.approx(1.0, abs=1e-6)
    assert clean["estoi"] == pytest.approx(1.0, abs=1e-6)
    assert clean["mcd"] == pytest.approx(0.0, abs=1e-9)
    assert clean["lsd"] == pytest.approx(0.0, abs=1e-9)
    assert clean["f0_rmse_cents"] == pytest.approx(0.0, abs=1e-9)
    assert clean["vuv_error"] == 0.0
    assert clean["si_sdr"] > 60
    for values in noisy:
        for name in SPECTRAL:
            better = values[name] < clean[name] if name not in ("mcd", "lsd", "mel_distance") else (
                values[name] > clean[name]
            )  # fmt: skip
            assert better, name


@pytest.mark.parametrize("name", SPECTRAL)
def test_scores_worsen_monotonically_with_noise(noise_ladder, name):
    _, noisy = noise_ladder
    series = [v[name] for v in noisy]
    if name in ("mcd", "lsd", "mel_distance"):
        assert all(a < b for a, b in zip(series, series[1:], strict=False)), series
    else:
        assert all(a > b for a, b in zip(series, series[1:], strict=False)), series


def test_known_delay_is_found_and_removed(sentence_speech):
    delay = 1234
    late = np.concatenate([np.zeros(delay, dtype=np.float32), sentence_speech])
    assert estimate_delay(sentence_speech, late) == delay
    card = score(late, sentence_speech, metrics=("stoi", "si_sdr"))
    assert card.results["stoi"].details["delay_samples"] == delay
    assert card.results["stoi"].value > 0.999
    assert card.results["si_sdr"].value > 40


def test_values_agree_with_pesq_and_pystoi_called_directly(sentence_speech):
    import soxr
    from pesq import pesq
    from pystoi import stoi

    ref = sentence_speech.astype(np.float64)
    deg = _noisy(sentence_speech, 0.02).astype(np.float64)
    card = score(deg, ref, metrics=CHEAP).values()
    assert card["pesq_wb"] == pytest.approx(pesq(16_000, ref, deg, "wb"), abs=1e-6)
    ref8, deg8 = soxr.resample(ref, 16_000, 8_000), soxr.resample(deg, 16_000, 8_000)
    assert card["pesq_nb"] == pytest.approx(pesq(8_000, ref8, deg8, "nb"), abs=1e-6)
    assert card["stoi"] == pytest.approx(stoi(ref, deg, 16_000), abs=1e-6)
    assert card["estoi"] == pytest.approx(stoi(ref, deg, 16_000, extended=True), abs=1e-6)


def test_si_sdr_matches_its_definition():
    rng = np.random.default_rng(1)
    ref = rng.standard_normal(16_000)
    noise = rng.standard_normal(16_000)
    noise -= noise.mean() + ref * (np.dot(noise, ref) / np.dot(ref, ref))  # orthogonal
    noise *= np.linalg.norm(ref) / np.linalg.norm(noise) / 10  # 20 dB below
    assert si_sdr(ref - ref.mean(), 3.0 * (ref - ref.mean()) + noise) == pytest.approx(
        20.0 + 20 * np.log10(3.0), abs=0.05
    )


def test_mcd_follows_the_stated_formula(sentence_speech):
    # A fixed spectral tilt changes every mel-cepstral coefficient; MCD must
    # grow with it and stay exactly zero for the unfiltered copy.
    from scipy.signal import lfilter

    values = [
        score(lfilter([1.0, -a], [1.0], sentence_speech), sentence_speech, metrics=("mcd",))
        .results["mcd"]
        .value
        for a in (0.0, 0.3, 0.6, 0.9)
    ]
    assert values[0] == 0.0
    assert all(a < b for a, b in zip(values, values[1:], strict=False)), values
    details = score(sentence_speech, sentence_speech, metrics=("mcd",)).results["mcd"].details
    assert details["order"] == 24 and details["alpha"] == 0.42 and details["c0"] == "excluded"


def test_silence_is_refused_not_scored(sentence_speech):
    silent = np.zeros_like(sentence_speech)
    card = score(silent, sentence_speech, text=SENTENCE)
    assert all(r.value is None for r in card.results.values())
    assert all("silent" in r.refused for r in card.results.values())


def test_unaligned_pair_refuses_time_aligned_metrics(sentence_speech):
    stretched = np.interp(
        np.linspace(0, len(sentence_speech) - 1, int(len(sentence_speech) * 1.3)),
        np.arange(len(sentence_speech)),
        sentence_speech,
    ).astype(np.float32)
    card = score(stretched, sentence_speech, metrics=("stoi", "estoi", "si_sdr", "mcd"))
    for name in ("stoi", "estoi", "si_sdr"):
        assert "not a time-aligned copy" in card.results[name].refused
    assert card.results["mcd"].value is not None  # DTW copes with timing


def test_non_parallel_pair_is_flagged(sentence_speech, paragraph_speech):
    card = score(paragraph_speech, sentence_speech, metrics=("pesq_wb", "mcd"))
    assert "not a parallel pair" in card.results["pesq_wb"].refused
    assert card.notes


def test_unknown_metric_is_refused_early(sentence_speech):
    with pytest.raises(ValueError, match="unknown metric"):
        score(sentence_speech, metrics=("pesq_wb", "nope"))


def test_settings_are_reported(sentence_speech):
    card = score(sentence_speech, sentence_speech, metrics=("mcd",))
    assert card.settings == MetricSettings().describe()
