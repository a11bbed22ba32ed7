"""libvirt layer: connections, polling, events, the target writer. No Textual here."""
