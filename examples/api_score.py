"""Score a clip against a reference with the evaluation suite, through the web
app's API: PESQ, STOI, MCD and the rest, or only the cheap ones.

    python examples/api_score.py reference.wav candidate.wav --metrics cheap

Needs a running app (``make run``) and ``gradio_client``. Prints one line per
metric; the full table is also written as CSV (``--csv``).
"""

import argparse
import shutil

from gradio_client import Client, handle_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", help="the reference recording")
    parser.add_argument("candidate", help="the clip to score against it")
    parser.add_argument("--text", default="", help="what the clips say (for WER)")
    parser.add_argument("--metrics", default="cheap", choices=["cheap", "all", "intrusive"])
    parser.add_argument("--url", default="http://127.0.0.1:7860/", help="the app's address")
    parser.add_argument("--csv", default="scores.csv", help="where to write the table")
    args = parser.parse_args()

    client = Client(args.url, verbose=False)
    table, _plot, csv_path = client.predict(
        reference=handle_file(args.reference),
        candidates=[handle_file(args.candidate)],
        text=args.text,
        speaker_reference=None,  # a recording of the real speaker, for similarity
        metric_set=args.metrics,
        api_name="/evaluate",
    )
    for row in table["data"]:
        print(", ".join(str(cell) for cell in row))
    shutil.copyfile(csv_path, args.csv)
    print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
