"""Dialogue policies that run inside the Rasa server (the safety policy outranks all others)."""
