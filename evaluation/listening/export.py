"""Exports and reports of a listening session.

- ``ratings.csv`` / ``ratings.json``: every stored vote (gold and trap
  included), one row each, in the columns of
  :data:`evaluation.listening.store.RATINGS_COLUMNS`;
- P.808-toolkit-style tables of the *screened* votes: ``votes_per_clip.csv``
  (``file_url, n, MOS, std, 95%CI, short_file_name, condition_name``),
  ``votes_per_cond.csv`` (``condition_name, n, MOS, std, 95%CI``) and
  ``votes_per_worker.csv`` (``HITId, WorkerId, file, vote, condition_name``);
- the analysis: ``systems.csv``, ``pairs.csv``, ``ranking.csv``,
  ``raters.csv``, ``stimuli.csv``, ``analysis.json`` and PNG plots.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.listening.records import SessionError
from evaluation.listening.store import RATINGS_COLUMNS, ListeningStore
from evaluation.stats import mean_ci

PLOTS = ("systems", "ranking", "votes")


@dataclass
class SessionResult:
    """An analysis with its figures (and the frame it came from)."""

    analysis: object
    frame: pd.DataFrame
    figures: dict = field(default_factory=dict)

    def text(self) -> str:
        """The analysis as plain text for a terminal."""
        a = self.analysis
        parts = [a.summary, "", "Per system:", a.systems.to_string(index=False)]
        for title, table in (("Pairs:", a.pairs), ("Ranking:", a.ranking), ("Raters:", a.raters)):
            if table is not None and len(table):
                parts += ["", title, table.to_string(index=False)]
        return "\n".join(parts)


def read_ratings(path: str | Path) -> pd.DataFrame:
    """An exported ``ratings.csv`` back as a frame (clear error when it is not one)."""
    try:
        frame = pd.read_csv(path, dtype={"rater_id": str, "trial_id": str, "item": str})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise SessionError(f"cannot read the ratings file {path}: {exc}") from None
    for column in ("system_b", "side", "item"):
        if column in frame:
            frame[column] = frame[column].fillna("").astype(str)
    return frame


def analyse_frame(frame: pd.DataFrame) -> SessionResult:
    """Screen and analyse a ratings frame; make the figures that apply."""
    from evaluation.listening import plots
    from evaluation.listening.analysis import analyse

    try:
        analysis = analyse(frame)
    except ValueError as exc:
        raise SessionError(str(exc)) from None
    figures = {}
    for name in PLOTS:
        try:
            figures[name] = getattr(plots, f"plot_{name}")(analysis)
        except ValueError:
            continue  # nothing to draw for this test type / data
    return SessionResult(analysis, frame, figures)


def analyse_session(store: ListeningStore, session_id: str) -> SessionResult:
    """Analyse everything stored for ``session_id``."""
    frame = store.ratings_frame(session_id)
    if frame.empty:
        raise SessionError("no ratings yet: share the rater link and come back")
    return analyse_frame(frame)


def p808_tables(result: SessionResult) -> dict[str, pd.DataFrame]:
    """Screened votes per clip, per condition and per worker, P.808-toolkit style."""
    kept = set(result.analysis.raters.loc[result.analysis.raters["kept"], "rater_id"])
    frame = result.frame
    votes = frame[frame["rater_id"].isin(kept) & ~frame["kind"].isin(["gold", "trap"])]
    condition = np.where(
        votes["system_b"].astype(str) != "",
        votes["system"] + " vs " + votes["system_b"].astype(str),
        votes["system"],
    )
    votes = votes.assign(condition_name=condition)

    def summarise(group: pd.DataFrame) -> pd.Series:
        ci = mean_ci(group["vote"])
        return pd.Series(
            {
                "n": ci.n,
                "MOS": ci.mean,
                "std": ci.std,
                "95%CI": (ci.high - ci.mean) if ci.n > 1 else np.nan,
            }
        )

    per_clip = (
        votes.groupby(["stimulus_id", "file", "condition_name"], sort=True)
        .apply(summarise, include_groups=False)
        .reset_index()
        .rename(columns={"stimulus_id": "file_url", "file": "short_file_name"})
    )
    per_clip = per_clip[
        ["file_url", "n", "MOS", "std", "95%CI", "short_file_name", "condition_name"]
    ]
    per_cond = (
        votes.groupby("condition_name", sort=True)
        .apply(summarise, include_groups=False)
        .reset_index()
    )
    per_worker = votes.rename(
        columns={"trial_id": "HITId", "rater_id": "WorkerId", "stimulus_id": "file"}
    )[["HITId", "WorkerId", "file", "vote", "condition_name"]]
    return {
        "votes_per_clip": per_clip,
        "votes_per_cond": per_cond,
        "votes_per_worker": per_worker,
    }


def write_analysis(result: SessionResult, out: str | Path) -> list[Path]:
    """Write the analysis tables, P.808-style tables, JSON and plots to ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    a = result.analysis
    for name in ("systems", "pairs", "ranking", "raters", "stimuli"):
        table = getattr(a, name)
        if table is not None and len(table):
            paths.append(out / f"{name}.csv")
            table.to_csv(paths[-1], index=False)
    for name, table in p808_tables(result).items():
        paths.append(out / f"{name}.csv")
        table.to_csv(paths[-1], index=False)
    paths.append(out / "analysis.json")
    paths[-1].write_text(json.dumps(a.to_dict(), indent=2, default=str), encoding="utf-8")
    for name, figure in result.figures.items():
        paths.append(out / f"{name}.png")
        figure.savefig(paths[-1], dpi=120, bbox_inches="tight")
    return paths


def export_session(
    store: ListeningStore, session_id: str, out: str | Path, result: SessionResult | None = None
) -> list[Path]:
    """Every vote (CSV, JSON) and, once there are ratings, the analysis files."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    session = store.session(session_id)
    frame = store.ratings_frame(session_id)
    paths = [out / "ratings.csv", out / "ratings.json"]
    frame.to_csv(paths[0], index=False, columns=list(RATINGS_COLUMNS))
    records = json.loads(frame.to_json(orient="records"))
    paths[1].write_text(
        json.dumps(
            {
                "session_id": session_id,
                "design": session.design.to_dict(),
                "created_at": session.created_at,
                "ratings": records,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    if not frame.empty:
        result = result or analyse_frame(frame)
        paths += write_analysis(result, out)
    return paths
