"""The test sshd (scripts/realguest/sshd.sh) as the ssh tests see it: users, keys, URIs.

Each test gets its own known_hosts: for `qemu+ssh://` through the URI's `command=` (an ssh
that reads no config and no agent, only the keys and known_hosts it is given), for
`qemu+libssh://` through libvirt's `known_hosts=` parameter.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

STATE = Path(os.environ.get("BTUI_SSHD_STATE", "/var/lib/balloon-tui/sshd"))
PORT = int(os.environ.get("BTUI_SSHD_PORT", "2222"))
PW_USER = "btui-ssh-pw"
KEY_USER = "btui-ssh-key"


def not_ready() -> str | None:
    """Why the test sshd cannot be used, or None."""
    for name in ("password", "client_ed25519", "host_ed25519_key.pub"):
        if not (STATE / name).is_file():
            return f"no {STATE / name} (run scripts/realguest/sshd.sh as root)"
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=5) as conn:
            banner = conn.recv(64)
    except OSError as exc:
        return f"no sshd on 127.0.0.1:{PORT}: {exc}"
    if not banner.startswith(b"SSH-"):
        return f"127.0.0.1:{PORT} is not an sshd: {banner!r}"
    return None


@dataclass(frozen=True)
class SshSetup:
    tmp: Path

    @property
    def password(self) -> str:
        return (STATE / "password").read_text().strip()

    @property
    def keyfile(self) -> Path:
        return STATE / "client_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.tmp / "known_hosts"

    def host_key_line(self) -> str:
        """The server's key as a known_hosts line for [localhost]:PORT."""
        key_type, key = (STATE / "host_ed25519_key.pub").read_text().split()[:2]
        return f"[localhost]:{PORT} {key_type} {key}\n"

    def trust_host(self) -> None:
        self.known_hosts.write_text(self.host_key_line())

    def fingerprint(self) -> str:
        """SHA256:... of the server's host key, as ssh shows it."""
        out = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f", str(STATE / "host_ed25519_key.pub")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return out.split()[1]

    def ssh_uri(self, user: str, *, key: bool = False) -> str:
        """qemu+ssh:// through an ssh of the test's own (its known_hosts, no agent)."""
        script = self.tmp / f"ssh-{user}"
        options = [
            "-F",
            "/dev/null",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "IdentityAgent=none",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"PubkeyAuthentication={'yes' if key else 'no'}",
        ]
        script.write_text(f'#!/bin/sh\nexec ssh {shlex.join(options)} "$@"\n')
        script.chmod(0o755)
        uri = f"qemu+ssh://{user}@localhost:{PORT}/system?command={script}"
        return uri + (f"&keyfile={self.keyfile}" if key else "")

    def libssh_uri(self, user: str, *, key: bool = False) -> str:
        uri = f"qemu+libssh://{user}@localhost:{PORT}/system?known_hosts={self.known_hosts}"
        if key:
            return uri + f"&keyfile={self.keyfile}&sshauth=privkey"
        return uri + "&sshauth=password"
