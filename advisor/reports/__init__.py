"""Saved reports: atomic writing and loading, the JSON Schema, redaction, diff and fleet views."""
