"""Benchmarks: scripts that print figures (see README.md). Run them as files
(``.venv/bin/python bench/search.py``); they put the project root on sys.path and import what
they share as ``bench.generate`` and ``bench.common``."""
