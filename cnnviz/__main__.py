"""`python -m cnnviz` runs the command-line front door."""

from cnnviz.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
