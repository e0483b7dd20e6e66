"""``python -m bot``: the product brief's second name for the ``bot`` command line.

The command line lives in the composition root (``app/cli.py``); this shim only hands over to it,
and the layer test counts it as part of that root (``tests/test_layers.py``).
"""

from app.cli import main

raise SystemExit(main())
