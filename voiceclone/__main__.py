"""``python -m voiceclone``: see :mod:`voiceclone.cli`."""

import sys

from voiceclone.cli import main

sys.exit(main())
