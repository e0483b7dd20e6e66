"""``python -m app`` is the same entry point as the ``bot`` console script.

The module form lives in the composition root, not in ``bot/``: the command line wires every
floor (channels, handoff), and ``bot/`` imports nothing above it.
"""

from app.cli import main

raise SystemExit(main())
