"""Batch runs through one or several worker processes, a Dask cluster and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from evaluation.batch import BatchSettings, run_batch
from tests.unit.test_batch import METRICS, local_result, manifest  # noqa: F401


def test_single_worker_gives_the_same_numbers(manifest, local_result):
    serial = run_batch(manifest, BatchSettings(metrics=METRICS, workers=1, cache=False))
    pd.testing.assert_frame_equal(
        serial.rows[["system", "utterance", *METRICS]],
        local_result.rows[["system", "utterance", *METRICS]],
    )


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_numbers(manifest, local_result):
    """The same numbers on a local dask cluster, whose workers start without
    dask's MALLOC_TRIM_THRESHOLD_ (it made every row 1.5 times slower)."""
    pytest.importorskip("dask.distributed")
    import os

    from dask.distributed import Client

    from evaluation.batch import local_dask_cluster

    with local_dask_cluster(2) as cluster, Client(cluster) as client:
        environ = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_", "unset"))
        assert set(environ.values()) == {"unset"} and len(environ) == 2
        result = run_batch(
            manifest,
            BatchSettings(
                metrics=METRICS,
                executor="dask",
                dask_address=cluster.scheduler_address,
                cache=False,
            ),
        )
    pd.testing.assert_frame_equal(
        result.rows[["system", "utterance", *METRICS]],
        local_result.rows[["system", "utterance", *METRICS]],
    )


def test_batch_cli(manifest, tmp_path):
    out = tmp_path / "res.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "evaluation", "batch", "--manifest", str(manifest)]
        + ["--out", str(out), "--metrics", "pesq_wb,stoi", "--workers", "1", "--no-cache"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "9 rows, 1 failed" in proc.stdout
    assert (tmp_path / "res.summary.csv").is_file()


def test_score_cli_json_and_errors(manifest, tmp_path):
    root = manifest.parent
    proc = subprocess.run(
        [sys.executable, "-m", "evaluation", "score", "--reference", str(root / "ref0.wav")]
        + ["--degraded", str(root / "light0.wav"), "--metrics", "cheap", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["metrics"]["pesq_wb"]["value"] > 2.0
    bad = subprocess.run(
        [sys.executable, "-m", "evaluation", "score", "--degraded", str(root / "broken.wav")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
