"""``python -m causal.cli``: the same as the ``therapy-pcmci`` command."""

import sys

from causal.cli import main

sys.exit(main())
