"""agentctl: git-native mission control for teams of AI agents.

Importing this package is cheap: it pulls in nothing but the standard library.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
