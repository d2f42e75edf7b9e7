"""``python -m nodeflow`` is the same as the ``nodeflow`` command."""

import sys

from nodeflow.cli.main import main

sys.exit(main())
