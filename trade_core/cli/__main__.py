"""``python -m trade_core.cli`` — the same as the ``trade`` console script."""

from trade_core.cli.app import main

main()
