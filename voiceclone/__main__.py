"""``python -m voiceclone``: see :mod:`voiceclone.cli`."""

import sys

from voiceclone.cli.main import main

sys.exit(main())
