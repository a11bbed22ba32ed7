"""balloon-tui: interactive memory ballooning of libvirt guests."""

__version__ = "0.1.0"
