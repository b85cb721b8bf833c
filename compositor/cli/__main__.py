"""``python -m compositor.cli``."""

import sys

from compositor.cli import main

sys.exit(main())
