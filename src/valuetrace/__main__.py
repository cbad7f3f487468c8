"""Run the ``valuetrace`` command with ``python -m valuetrace``."""

from valuetrace.cli import main

main()
