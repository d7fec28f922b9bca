"""Formatting a Report for people and files: terminal, Markdown, HTML (with an inline SVG chart).

Renderers decide nothing: they only choose words, order and layout for facts the Report already holds.
"""
