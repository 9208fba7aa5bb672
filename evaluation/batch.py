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

This module runs the jobs (a local process pool or dask), reuses cached rows
and summarises; :mod:`evaluation.batch_rows` reads the manifest and scores its
rows, :mod:`evaluation.provenance` records how a run was made.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, combinations
from pathlib import Path

import numpy as np

from evaluation.batch_rows import ManifestError, read_manifest, score_rows
from evaluation.metrics import ALL, METRICS, MetricSettings
from evaluation.provenance import build_provenance, package_versions


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


def run_batch(
    manifest: Path | list[dict],
    settings: BatchSettings = BatchSettings(),
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Score every row of a manifest and summarise.

    Parameters
    ----------
    manifest : Path or list[dict]
        A manifest file, or rows as :func:`evaluation.batch_rows.read_manifest`
        returns them.
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
    chunks = chunk_rows(rows, settings.rows_per_job, settings.workers if parallel else 1)
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


def chunk_rows(rows: list[dict], per_job: int, workers: int) -> list[list[dict]]:
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
