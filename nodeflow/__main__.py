"""``python -m nodeflow`` is the same as the ``nodeflow`` command."""

import sys

from .cli import main

sys.exit(main())
