"""ipywidgets 8 explorers, one module per notebook topic.

Each widget is split in two: a pure function that computes what to show
(tested without a browser) and a thin ``ipywidgets`` layout around it.
"""
