"""torch.hub entry points: ``torch.hub.load("<owner>/resattn", "attention56")`` or ``source="local"``.

Every model of the zoo is an entry point with the same keyword arguments as ``timm.create_model``.
"""

import os
import sys

# torch.hub imports this file from the repository root; the package lives under src/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

dependencies = ["torch", "timm"]

from resattn.models import NET_SPECS, registry  # noqa: E402

globals().update({name: getattr(registry, name) for name in NET_SPECS})
