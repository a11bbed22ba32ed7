"""balloon-tui's own widgets."""
