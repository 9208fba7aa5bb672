"""The results page (``/results``): a session's screened ratings, its system
means, rankings and paired comparisons, on the admin link only."""

from __future__ import annotations

import gradio as gr

from evaluation.listening.design import (
    TEST_NAMES,
)
from evaluation.listening.records import SessionError
from webapp import session as visitor
from webapp.errors import friendly_errors
from webapp.listening import listening_store
from webapp.rating import query_param


def results_page(demo: gr.Blocks) -> None:
    """Build the admin results page inside ``demo``'s current route."""
    header = gr.Markdown(elem_id="rs-header")
    refresh = gr.Button("Refresh", elem_id="rs-refresh")
    summary = gr.Markdown(elem_id="rs-summary")
    systems = gr.Dataframe(label="Per system (screened): mean, 95 % t-CI and bootstrap CI",
                           elem_id="rs-systems", interactive=False)  # fmt: skip
    pairs = gr.Dataframe(
        label="Pairwise comparisons (Holm-adjusted p)", interactive=False, elem_id="rs-pairs"
    )
    ranking = gr.Dataframe(label="Ranking", interactive=False, elem_id="rs-ranking")
    with gr.Row():
        plot_systems = gr.Plot(label="Means with 95 % CI")
        plot_ranking = gr.Plot(label="Ranking")
    plot_votes = gr.Plot(label="Votes")
    raters = gr.Dataframe(label="Raters and screening", interactive=False, elem_id="rs-raters")
    stimuli = gr.Dataframe(label="Ratings per stimulus", interactive=False)
    files = gr.File(label="Export (CSV, JSON)", file_count="multiple", elem_id="rs-files")
    outputs = [header, summary, systems, pairs, ranking, plot_systems, plot_ranking, plot_votes,
               raters, stimuli, files]  # fmt: skip
    demo.load(
        show_results, inputs=None, outputs=outputs, api_name="listening_results",
        api_visibility="undocumented",
    )  # fmt: skip
    refresh.click(show_results, inputs=None, outputs=outputs, api_visibility="private")


def _display(table, digits: int = 3):
    """A result table for the page: rounded, with missing values shown as 'n/a'
    (e.g. a bootstrap interval with too few raters)."""
    if table is None or table.empty:
        return None
    return table.round(digits).astype(object).where(table.notna(), "n/a")


@friendly_errors
def show_results(request: gr.Request):
    """Every number here comes from the stored ratings, recomputed on each load."""
    from evaluation.listening.export import analyse_session, export_session

    session_id, token = query_param(request, "s"), query_param(request, "token")
    store = listening_store()
    blank = [gr.skip()] * 10
    if not session_id or not store.check_token(session_id, token):
        return "### This results link is not valid (wrong session or token).", *blank
    session = store.session(session_id)
    progress = store.progress(session_id)
    header = (
        f"## {session.design.name}: {TEST_NAMES[session.test_type]}\n"
        f"{progress['raters']} raters joined, {progress['finished']} finished; the least-rated "
        f"trial has {progress['min_ratings']} ratings ({progress['wanted']} wanted"
        + (", complete)." if progress["complete"] else ").")
    )
    try:
        result = analyse_session(store, session_id)
    except (ValueError, SessionError) as exc:
        return header, f"**{exc}**", *[gr.skip()] * 9
    out = visitor.scratch(request, "results-")
    paths = export_session(store, session_id, out, result)
    return (
        header,
        "\n".join(f"- {line}" for line in result.analysis.summary.splitlines() if line.strip()),
        _display(result.analysis.systems),
        _display(result.analysis.pairs, 4),
        _display(result.analysis.ranking),
        result.figures.get("systems"),
        result.figures.get("ranking"),
        result.figures.get("votes"),
        _display(result.analysis.raters),
        _display(result.analysis.stimuli),
        [str(p) for p in paths],
    )
