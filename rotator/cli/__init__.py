"""The face: the Click group (`app.py`), options defined once, one module per command.

Only this package prints to the terminal or exits.
"""

from rotator.cli.app import cli, main

__all__ = ["cli", "main"]
