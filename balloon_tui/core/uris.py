"""One check for every libvirt URI, whatever gave it: `-c`, the config file's `hosts`, or
`LIBVIRT_DEFAULT_URI`.

A URI is typed by hand or copied from somewhere; libvirt-python raises ValueError on a NUL
(from the host's worker thread, where nobody reports it), and a control or bidi character
would reach the terminal in every line that names the host. No libvirt URI holds a space or
a control character (they are %-escaped), and none is kilobytes long.
"""

from __future__ import annotations

from balloon_tui.core.display import shown

MAX_URI_CHARS = 2048
EXAMPLE = "qemu:///system"


class UriError(ValueError):
    """What no libvirt URI looks like; the message shows the URI with its controls escaped."""


def check_uri(uri: str) -> str:
    """`uri` unchanged, or UriError saying what is wrong with it."""
    if not uri.strip():
        raise UriError(f"an empty URI; give one like {EXAMPLE}")
    if len(uri) > MAX_URI_CHARS:
        raise UriError(f"a URI of {len(uri)} characters is too long (at most {MAX_URI_CHARS})")
    # isprintable() is False for C0/C1 controls, bidi and other format characters, line
    # separators and unassigned code points: none belongs in a URI.
    for position, ch in enumerate(uri, 1):
        if ch.isspace() or not ch.isprintable():
            # Named by its code point: a zero-width space is invisible even when shown.
            raise UriError(
                f"a URI cannot contain spaces or control characters "
                f"(U+{ord(ch):04X} at character {position}): {shown(uri, 80)}"
            )
    return uri
