"""``python -m infodyn`` runs the command line (the same as the ``infodyn`` script), for
environments whose script folder is not on ``PATH`` (a cluster job, a notebook's kernel)."""

from infodyn.cli import main

if __name__ == "__main__":  # run, not imported (a spawned worker, a docs tool)
    main()
