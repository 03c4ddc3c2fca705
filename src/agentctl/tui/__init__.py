"""The live board (``agentctl board`` on a terminal): a textual app built by
:func:`agentctl.tui.app.make_app`.

Only ``app``, ``widgets/`` and ``screens/`` import textual; ``gateway`` and
``view`` are plain Python (the data side, testable without a terminal). Nothing here is
imported unless the board runs interactively.
"""
