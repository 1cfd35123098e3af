"""torch.hub entry points: ``torch.hub.load("<owner>/resattn", "attention56")`` or ``source="local"``.

Every model of the zoo is an entry point with the same keyword arguments as ``timm.create_model``.
"""

import os
import sys

# torch.hub imports this file from the repository root; the package lives under src/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

dependencies = ["torch", "timm"]

from resattn.models import residual_attention as _ra  # noqa: E402
from resattn.models.preact_resnet import preact_resnet164_cifar  # noqa: E402, F401

globals().update({name: getattr(_ra, name) for name in _ra.NET_SPECS if hasattr(_ra, name)})
