"""The composition root: the only package that may import every other one.

``bot/`` (the ground), ``handoff/``, ``actions/`` and ``channels/`` each import only what stands
below them. What must know them all lives here: the command line (``bot``, ``python -m app``),
the local runner and its supervisor, Rasa's entry point with its fixes, the ``bot eval``
commands, and the tracker store, which erases a person's data through hooks: ``app.erasure``
registers the channel and hand-off stores' erasers, so the store imports neither.
"""
