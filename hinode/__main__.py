"""``python -m hinode`` runs the CLI."""

from hinode.cli import main

main()
