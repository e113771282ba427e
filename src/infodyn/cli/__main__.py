"""``python -m infodyn.cli`` runs the command line."""

from infodyn.cli import main

main()
