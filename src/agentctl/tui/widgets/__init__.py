"""Widgets of the live board. Each renders what it is given; none reads the workspace."""
