"""voiceclone's web app, as a Hugging Face Space starts it: ``python app.py``.

It serves on ``GRADIO_SERVER_NAME``:``GRADIO_SERVER_PORT`` (default
0.0.0.0:7860, the Spaces convention). The app itself is the ``webapp``
package: one module per tab, plus the visitor's session and the error
boundary; the work is in ``voiceclone``.
"""

from webapp.server import main

if __name__ == "__main__":
    main()
