"""Turn libvirt errors into one line an operator understands."""

from __future__ import annotations

import libvirt

_HINTS: dict[int, str] = {
    libvirt.VIR_ERR_OPERATION_DENIED: "the connection is read-only",
    libvirt.VIR_ERR_AUTH_FAILED: "authentication failed",
    libvirt.VIR_ERR_NO_DOMAIN: "the domain no longer exists",
}


def describe(error: libvirt.libvirtError) -> str:
    message = (error.get_error_message() or str(error)).strip()
    hint = _HINTS.get(error.get_error_code() or 0)
    if hint and hint not in message:
        return f"{message} ({hint})"
    return message


def code_of(error: libvirt.libvirtError) -> int:
    return int(error.get_error_code() or 0)
