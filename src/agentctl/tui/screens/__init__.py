"""Screens pushed over the board: a task, an agent, and small dialogs."""
