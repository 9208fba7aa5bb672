"""Manifest rows: reading and checking a manifest, and scoring its rows in
jobs (each job decodes its files once, transcribes and embeds its clips
together, then scores row by row). :mod:`evaluation.batch` runs the jobs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from evaluation.metrics import MetricSettings
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import VoiceCloneError

REQUIRED_COLUMNS = ("system", "utterance", "degraded")
PATH_COLUMNS = ("degraded", "reference", "speaker_reference", "source")
OPTIONAL_COLUMNS = ("reference", "text", "speaker_reference", "source")
MAX_MANIFEST_ROWS = 100_000


class ManifestError(VoiceCloneError):
    """The manifest cannot be used (missing columns, bad rows, missing files)."""


def read_manifest(path: Path, confine_to: Path | None = None) -> list[dict]:
    """Read and check a manifest; paths are resolved relative to its folder.

    With ``confine_to``, every audio path must resolve inside that folder
    (used for uploaded bundles, so a manifest cannot point at other files).

    Raises
    ------
    ManifestError
        Unreadable file, missing columns, empty manifest, duplicate
        (system, utterance) pairs, or missing audio files (all listed).
    """
    from evaluation.manifest import read_file, resolve_path

    path = Path(path)
    _, raw = read_file(
        path, required=REQUIRED_COLUMNS, max_rows=MAX_MANIFEST_ROWS, error=ManifestError
    )
    rows, seen, problems = [], set(), []
    for line, r in raw:
        key = (r.get("system", ""), r.get("utterance", ""))
        if not all(key) or not r.get("degraded"):
            problems.append(f"line {line}: system, utterance and degraded must not be empty")
            continue
        if key in seen:
            problems.append(f"line {line}: duplicate system/utterance {key[0]}/{key[1]}")
        seen.add(key)
        row = {c: r.get(c, "") for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
        for c in PATH_COLUMNS:
            if row[c]:
                resolved, problem = resolve_path(row[c], path.parent, confine_to)
                if problem:
                    problems.append(f"line {line}: {c} {problem}")
                row[c] = str(resolved)
        rows.append(row)
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ManifestError(f"manifest {path.name}: {shown}{more}")
    return rows


def score_row(
    row: dict,
    metrics: tuple[str, ...],
    settings: MetricSettings,
    decoded: Mapping[str, np.ndarray] | None = None,
) -> dict:
    """Score one manifest row; never raises for bad audio (records the error).

    ``decoded`` maps file paths to clips already loaded at 16 kHz (see
    :func:`decode_files`)."""
    from evaluation.scoring import score

    out = {"system": row["system"], "utterance": row["utterance"], "status": "ok", "error": ""}
    start = time.perf_counter()
    try:
        card = score(
            row["degraded"],
            row.get("reference") or None,
            text=row.get("text") or None,
            speaker_reference=row.get("speaker_reference") or None,
            source=row.get("source") or None,
            metrics=metrics,
            settings=settings,
            decoded=decoded,
        )
    except (VoiceCloneError, OSError, ValueError, RuntimeError) as exc:
        out.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        return out
    refused = {}
    for name, result in card.results.items():
        out[name] = result.value
        if result.refused:
            refused[name] = result.refused
    similarity = card.results.get("speaker_similarity")
    if similarity is not None:
        for key in ("ceiling", "floor", "gap_closed"):
            out[f"speaker_{key}"] = similarity.details.get(key)
    asr = card.results.get("wer")
    if asr is not None:
        out["transcript"] = asr.details.get("transcript", "")
    out["refused"] = json.dumps(refused) if refused else ""
    out["notes"] = "; ".join(card.notes)
    out["seconds"] = round(time.perf_counter() - start, 3)
    return out


def score_rows(
    rows: list[dict],
    metrics: tuple[str, ...],
    settings: MetricSettings,
    pack_transcripts: bool = True,
    pack_wer_transcripts: bool = False,
) -> list[dict]:
    """Score a group of rows (one job): decode each file once, transcribe the
    clips that need it together, then score row by row."""
    decoded = decode_files(rows)
    if pack_transcripts or pack_wer_transcripts:
        prepare_transcripts(rows, decoded, metrics, pack_wer_transcripts)
    prepare_embeddings(rows, decoded, metrics)
    return [score_row(row, metrics, settings, decoded) for row in rows]


def decode_files(rows: list[dict]) -> dict[str, np.ndarray]:
    """Every file of ``rows``, loaded once at 16 kHz (path -> clip). Files that
    cannot be loaded, or are silent, are left out: scoring reads them again and
    records the error or the refusal exactly as it would have."""
    from evaluation.scoring import load_for_metrics

    decoded: dict[str, np.ndarray] = {}
    for row in rows:
        for column in PATH_COLUMNS:
            path = row.get(column) or ""
            if not path or path in decoded:
                continue
            try:
                audio, _ = load_for_metrics(path, column)
            except (VoiceCloneError, OSError, ValueError, RuntimeError):
                continue
            if audio is not None:
                decoded[path] = audio
    return decoded


CHECK_BEAM_SIZE = 1
"""Beam width of the packed reference transcripts that only decide whether a
pair is parallel. Measured on the references of 40 benchmark clips (packs of
up to 4): beam 5 took 26.4 s (mean WER against the text 6.6 %, none over the
check's 50 %), greedy 16.7 s (8.8 %, one over 50 %, which is then heard again
alone with the full beam)."""


def prepare_transcripts(
    rows: list[dict],
    decoded: Mapping[str, np.ndarray],
    metrics: tuple[str, ...],
    pack_wer_transcripts: bool = False,
) -> None:
    """Transcribe, in shared Whisper windows, the clips that scoring ``rows``
    will need transcripts of, and remember them where scoring looks.

    References for the parallel-content check go in as check transcripts
    (``evaluation.model_metrics.CHECK_TRANSCRIPT``), decoded greedily
    (:data:`CHECK_BEAM_SIZE`): they can accept a pair, and the check
    transcribes the reference alone, with the full beam, before it refuses one.
    With ``pack_wer_transcripts``, degraded clips go in as the transcripts WER
    is computed from. Clips of the same text never share a window (see
    :func:`distinct_text_groups`)."""
    from evaluation.model_metrics import CHECK_TRANSCRIPT, TRANSCRIPT, remember, remembered
    from evaluation.scoring import transcripts_needed
    from voiceclone.audio.transcribe import BEAM_SIZE
    from voiceclone.text.wer import normalise

    for_wer: dict[str, str] = {}
    for_check: dict[str, str] = {}
    for row in rows:
        deg, ref = decoded.get(row["degraded"]), decoded.get(row.get("reference") or "")
        text = row.get("text") or None
        wer_needed, check_needed = transcripts_needed(deg, ref, text, metrics)
        if wer_needed and remembered(TRANSCRIPT, deg) is None:
            for_wer.setdefault(row["degraded"], text)
        if check_needed and remembered(TRANSCRIPT, ref) is None:
            if remembered(CHECK_TRANSCRIPT, ref) is None:
                for_check.setdefault(row["reference"], text)
    if not pack_wer_transcripts:
        for_wer = {}
    for path in for_wer:
        for_check.pop(path, None)  # its own transcript will serve the check
    plans = ((TRANSCRIPT, for_wer, BEAM_SIZE), (CHECK_TRANSCRIPT, for_check, CHECK_BEAM_SIZE))
    for kind, wanted, beam in plans:
        for paths in distinct_text_groups(list(wanted), lambda p, w=wanted: normalise(w[p])):
            heard = _transcriber().transcribe_many([decoded[p] for p in paths], beam_size=beam)
            for path, transcript in zip(paths, heard, strict=True):
                remember(kind, decoded[path], transcript.text)


def prepare_embeddings(
    rows: list[dict], decoded: Mapping[str, np.ndarray], metrics: tuple[str, ...]
) -> None:
    """Embed, in shared speaker-encoder passes, every clip that scoring
    ``rows`` will embed for speaker similarity (each clip as it is embedded
    alone; see ``SpeakerEncoder.embed_many``)."""
    from evaluation.model_metrics import MIN_EMBED_S, embed_ahead

    if "speaker_similarity" not in metrics:
        return
    clips = []
    for row in rows:
        target = decoded.get(row.get("speaker_reference") or "")
        if target is None:
            continue
        clips.append(target)
        for column in ("degraded", "reference", "source"):
            clip = decoded.get(row.get(column) or "")
            if clip is not None and len(clip) >= MIN_EMBED_S * SAMPLE_RATE:
                clips.append(clip)
    embed_ahead(clips)


def _transcriber():
    from voiceclone.audio.transcribe import default_transcriber

    return default_transcriber()


def distinct_text_groups(items: list, text_of: Callable) -> list[list]:
    """``items`` in groups whose members all have different texts (the first
    item of each text, then the second, ...), so no Whisper window holds the
    same words twice: Whisper then loses track of which clip said what, and
    its repeated text trips the compression-ratio check, which decodes the
    window again at higher temperatures (ten times slower)."""
    groups: list[list] = []
    seen: dict[str, int] = {}
    for item in items:
        text = text_of(item)
        round_ = seen.get(text, 0)
        seen[text] = round_ + 1
        if round_ == len(groups):
            groups.append([])
        groups[round_].append(item)
    return groups
