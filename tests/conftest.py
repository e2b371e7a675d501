"""The platform-wide tests import their shared helpers (deployment_layout) from this folder."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
