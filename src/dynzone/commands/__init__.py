"""The ``dynzone`` subcommands other than ``serve`` and ``check``."""
