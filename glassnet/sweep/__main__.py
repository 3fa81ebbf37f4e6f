"""``python -m glassnet.sweep CONFIG.toml ...``: the same as ``glassnet sweep``."""

import sys

from glassnet.sweep.cli import main

sys.exit(main())
