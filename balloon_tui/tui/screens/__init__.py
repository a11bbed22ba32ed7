"""Modal screens: help and the typed target entry."""
