"""Helpers for the course "RAG vs Fine-Tuning, hands-on"."""
