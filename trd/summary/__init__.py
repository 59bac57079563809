"""Summaries of a navigator result: chat, clinician page (HTML/PDF) and JSON."""
