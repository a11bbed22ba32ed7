"""The SSH_ASKPASS program: ssh's question goes to the balloon-tui process that started ssh.

Run by path (`python -I this-file "question"`) from the ssh wrapper that balloon-tui
writes (virt/askpass.py): standard library only, no balloon_tui import, so it starts fast
and works without the package on sys.path. The wrapper's environment says where to ask:
BTUI_ASKPASS_SOCKET (a Unix socket in a directory only our user can enter) and
BTUI_ASKPASS_TOKEN (which connection is asking).

An answer is printed for ssh (exit 0). Anything else -- skipped, the app gone, no reply --
ends the ssh process that asked (our parent): ssh would otherwise ask again and again, or
try an empty password, while the operator has already said no.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

REPLY_LIMIT = 1 << 16


def _give_up(reason: str) -> int:
    print(f"balloon-tui askpass: {reason}", file=sys.stderr)
    try:
        os.kill(os.getppid(), signal.SIGTERM)
    except OSError:
        pass
    return 1


def main(argv: list[str]) -> int:
    path = os.environ.get("BTUI_ASKPASS_SOCKET", "")
    token = os.environ.get("BTUI_ASKPASS_TOKEN", "")
    if not path or not token:
        return _give_up("not started by balloon-tui")
    question = {
        "token": token,
        "prompt": argv[1] if len(argv) > 1 else "",
        "hint": os.environ.get("SSH_ASKPASS_PROMPT", ""),
    }
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(path)
            conn.sendall(json.dumps(question).encode() + b"\n")
            reply = b""
            while len(reply) < REPLY_LIMIT and not reply.endswith(b"\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                reply += chunk
    except OSError as exc:
        return _give_up(f"cannot reach balloon-tui: {exc.strerror or exc}")
    try:
        answer = json.loads(reply).get("answer")
    except (ValueError, AttributeError):
        answer = None
    if not isinstance(answer, str):
        return _give_up("not answered")
    sys.stdout.write(answer + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
