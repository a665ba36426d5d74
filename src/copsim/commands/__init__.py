"""One module per ``copsim`` subcommand, each with ``register(subparsers)``.

A command module adds its parser and sets ``action`` to a function taking the
parsed arguments and returning an exit code; :mod:`copsim.cli` lists the modules.
"""
