"""``python -m dings``: the ``dings`` command (shipped by dings-cli; ``dings`` stays a namespace package)."""

from dings.cli.main import entry

entry()
