"""Helpers for the course "RAG vs Fine-Tuning, hands-on"."""
from . import quiet  # noqa: F401  (hides one library warning in every notebook; see quiet.py)
