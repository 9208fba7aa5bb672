"""Clone a voice from a recording and hear text in it, through the web app's API.

    python examples/api_clone_and_speak.py me.wav "Hello from my cloned voice."

Needs a running app (``make run``) and ``gradio_client``. Writes the speech to
``cloned.wav`` (``--out``). The voice is saved in this script's own library on
the server: another visitor does not see it.
"""

import argparse
import shutil

from gradio_client import Client, handle_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", help="10-30 s of one person speaking (wav, mp3, flac...)")
    parser.add_argument("text", help="what the cloned voice should say")
    parser.add_argument("--url", default="http://127.0.0.1:7860/", help="the app's address")
    parser.add_argument("--name", default="my voice", help="name of the saved voice")
    parser.add_argument("--out", default="cloned.wav", help="where to write the speech")
    args = parser.parse_args()

    client = Client(args.url, verbose=False)
    status, voice, *_ = client.predict(
        reference=handle_file(args.reference),
        more_clips=[],  # more recordings of the same voice make a closer clone
        name=args.name,
        consent=True,  # you have the speaker's consent (or it is your own voice)
        overwrite=True,
        api_name="/clone",
    )
    print(status.splitlines()[0])
    _, wav = client.predict(voice_name=voice, text=args.text, api_name="/speak")
    shutil.copyfile(wav, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
