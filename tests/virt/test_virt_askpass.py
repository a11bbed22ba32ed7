"""ssh's questions reach the app, without an sshd: a fake `ssh` runs "$SSH_ASKPASS" the way
ssh does and writes down what it got -- its answer, its environment, whether it still had a
terminal -- and whether it lived to the end (the askpass program ends an ssh whose question
was skipped)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from balloon_tui.core.questions import CRED_ECHOPROMPT, CRED_NOECHOPROMPT
from balloon_tui.virt import askpass
from balloon_tui.virt.askpass import AskpassService, uses_ssh_binary, with_command
from balloon_tui.virt.connection import AUTH_SKIPPED, ConnectError, open_connection

PASSWORD = "btui-ssh-pw@localhost's password: "
HOST_KEY = (
    "The authenticity of host '[localhost]:2222 ([127.0.0.1]:2222)' can't be established.\n"
    "ED25519 key fingerprint is SHA256:7bXlDsW5SaunRG+UqKAJMETLCkZM/lEy1sqR5mAqp1w.\n"
    "Are you sure you want to continue connecting (yes/no/[fingerprint])? "
)
URI = "qemu+ssh://btui@localhost:2222/system"
# Ends an ssh killed by SIGTERM: -15 when the wrapper's setsid ran it in place, 143 from a
# shell, 15 from `setsid -w` when it had to fork (its parent led a process group).
KILLED = (-signal.SIGTERM, 128 + signal.SIGTERM, signal.SIGTERM)

FAKE_SSH = """#!{python}
import json, os, subprocess, sys

def note(**fields):
    with open({record!r}, "a") as out:
        out.write(json.dumps(fields) + "\\n")

try:
    os.close(os.open("/dev/tty", os.O_RDWR))
    tty = True
except OSError:  # ENXIO: no controlling terminal
    tty = False
note(argv=sys.argv[1:], require=os.environ.get("SSH_ASKPASS_REQUIRE"),
     askpass=os.environ.get("SSH_ASKPASS"), tty=tty)
for question in {questions!r}:
    done = subprocess.run([os.environ.get("SSH_ASKPASS", "false"), question],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    note(question=question, out=done.stdout, rc=done.returncode)
note(end=True)
sys.exit({status})
"""


class FakeSsh:
    def __init__(self, directory: Path, questions: list[str], status: int = 0) -> None:
        self.path = directory / "fake-ssh"
        self.record = directory / "record.jsonl"
        self.path.write_text(
            FAKE_SSH.format(
                python=sys.executable, record=str(self.record), questions=questions, status=status
            )
        )
        self.path.chmod(0o755)

    def lines(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    @property
    def start(self) -> dict[str, Any]:
        return self.lines()[0]

    def answers(self) -> list[tuple[str, int]]:
        return [(line["out"], line["rc"]) for line in self.lines() if "question" in line]

    @property
    def finished(self) -> bool:
        return any(line.get("end") for line in self.lines())


class Prompt:
    """A CredentialPrompt that answers from a list (None = skip) and keeps what it was asked."""

    def __init__(self, *answers: list[str] | None) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, list[tuple[int, str]]]] = []

    def __call__(self, uri: str, questions: list[tuple[int, str]]) -> list[str] | None:
        self.asked.append((uri, questions))
        return self.answers.pop(0)


@pytest.fixture
def service() -> Iterator[AskpassService]:
    service = AskpassService()
    yield service
    service.close()


def run(wrapper: Path, *args: str) -> int:
    done = subprocess.run(
        [str(wrapper), *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=30
    )
    return done.returncode


def query(uri: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(uri).query, keep_blank_values=True)


# -- the URI -------------------------------------------------------------------------------


def test_with_command_keeps_the_other_parameters_and_ssh_comes_from_path() -> None:
    uri, real = with_command(
        "qemu+ssh://root@host:2222/system?keyfile=/a%20b/c&known_hosts=/k/h", "/run/x/ssh-1"
    )
    assert real == "ssh"
    assert urlsplit(uri)._replace(query="").geturl() == "qemu+ssh://root@host:2222/system"
    assert query(uri) == [
        ("keyfile", "/a b/c"),
        ("known_hosts", "/k/h"),
        ("command", "/run/x/ssh-1"),
    ]
    # libvirt unescapes %XX only: a "+" would reach ssh as a plus sign.
    assert "+" not in urlsplit(uri).query and "%20" in uri


def test_with_command_replaces_the_operators_ssh_and_runs_it() -> None:
    uri, real = with_command("qemu+ssh://host/system?command=/opt/my%20ssh&no_tty=1", "/w/ssh-2")
    assert real == "/opt/my ssh"
    assert query(uri) == [("no_tty", "1"), ("command", "/w/ssh-2")]


@pytest.mark.parametrize(
    ("uri", "binary"),
    [
        ("qemu+ssh://root@host/system", True),
        ("QEMU+SSH://host/system", True),
        ("qemu+libssh://root@host/system", False),
        ("qemu+libssh2://root@host/system", False),
        ("qemu:///system", False),
        ("test:///default", False),
        (None, False),
    ],
)
def test_uses_ssh_binary(uri: str | None, binary: bool) -> None:
    assert uses_ssh_binary(uri) is binary


# -- the wrapper and the askpass program ---------------------------------------------------


def test_the_answer_reaches_ssh_which_has_no_terminal(
    service: AskpassService, tmp_path: Path
) -> None:
    fake = FakeSsh(tmp_path, [PASSWORD])
    prompt = Prompt(["s3cret"])
    ticket, uri = service.ticket(URI, prompt, f"{URI}?command={fake.path}")
    assert ticket.wrapper is not None and query(uri)[-1] == ("command", str(ticket.wrapper))
    assert run(ticket.wrapper, "-l", "btui", "--", "localhost") == 0
    assert prompt.asked == [(URI, [(CRED_NOECHOPROMPT, PASSWORD)])]
    assert fake.answers() == [("s3cret\n", 0)]
    assert fake.start["argv"] == ["-l", "btui", "--", "localhost"]
    assert fake.start["require"] == "force"
    assert fake.start["tty"] is False
    assert fake.finished
    assert not (ticket.cancelled or ticket.refused) and ticket.unanswered is None
    assert ticket.asked == [PASSWORD]


def test_ssh_run_through_the_wrapper_loses_the_terminal_it_had(
    service: AskpassService, tmp_path: Path
) -> None:
    # The same fake, started on a pseudo-terminal of its own: with it, then through the
    # wrapper (whose setsid takes it away).
    fake = FakeSsh(tmp_path, [])
    ticket, _ = service.ticket(URI, Prompt(), f"{URI}?command={fake.path}")
    assert ticket.wrapper is not None
    leader, follower = os.openpty()
    try:
        on_tty = (
            "import os, sys; os.setsid(); os.open(sys.argv[1], os.O_RDWR); "
            "os.execv(sys.argv[2], sys.argv[2:])"
        )
        name = os.ttyname(follower)
        for program in (fake.path, ticket.wrapper):
            subprocess.run(
                [sys.executable, "-c", on_tty, name, str(program)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=30,
                check=True,
            )
    finally:
        os.close(leader)
        os.close(follower)
    starts = [line["tty"] for line in fake.lines() if "tty" in line]
    assert starts == [True, False]


def test_a_refused_host_key_sends_no(service: AskpassService, tmp_path: Path) -> None:
    fake = FakeSsh(tmp_path, [HOST_KEY])
    prompt = Prompt(["maybe"])  # anything but the accept word refuses
    ticket, _ = service.ticket(URI, prompt, f"{URI}?command={fake.path}")
    assert ticket.wrapper is not None
    run(ticket.wrapper)
    assert prompt.asked == [(URI, [(CRED_ECHOPROMPT, HOST_KEY)])]
    assert fake.answers() == [("no\n", 0)]
    assert ticket.refused and not ticket.cancelled


def test_an_accepted_host_key_sends_yes(service: AskpassService, tmp_path: Path) -> None:
    fake = FakeSsh(tmp_path, [HOST_KEY, PASSWORD])
    ticket, _ = service.ticket(URI, Prompt(["yes"], ["pw"]), f"{URI}?command={fake.path}")
    assert ticket.wrapper is not None
    assert run(ticket.wrapper) == 0
    assert fake.answers() == [("yes\n", 0), ("pw\n", 0)]
    assert not ticket.refused


def test_a_skipped_question_ends_ssh(service: AskpassService, tmp_path: Path) -> None:
    fake = FakeSsh(tmp_path, [PASSWORD, PASSWORD])
    ticket, _ = service.ticket(URI, Prompt(None), f"{URI}?command={fake.path}")
    assert ticket.wrapper is not None
    assert run(ticket.wrapper) in KILLED
    assert not fake.finished and fake.answers() == []  # killed while it waited on askpass
    assert ticket.cancelled and not ticket.refused


def test_a_broken_prompt_ends_ssh_like_a_skip(service: AskpassService, tmp_path: Path) -> None:
    def broken(_uri: str, _questions: list[tuple[int, str]]) -> list[str] | None:
        raise RuntimeError("a bug in the dialog")

    fake = FakeSsh(tmp_path, [PASSWORD])
    ticket, _ = service.ticket(URI, broken, f"{URI}?command={fake.path}")
    assert ticket.wrapper is not None
    assert run(ticket.wrapper) in KILLED
    assert ticket.cancelled


def test_no_prompt_at_all_ends_ssh_and_says_what_it_asked(
    service: AskpassService, tmp_path: Path
) -> None:
    fake = FakeSsh(tmp_path, [PASSWORD])
    ticket, _ = service.ticket(URI, None, f"{URI}?command={fake.path}")
    assert ticket.wrapper is not None
    assert run(ticket.wrapper) in KILLED
    assert ticket.unanswered == PASSWORD and not ticket.cancelled


def test_a_wrong_token_gets_no_answer(service: AskpassService, tmp_path: Path) -> None:
    fake = FakeSsh(tmp_path, [PASSWORD])
    prompt = Prompt(["s3cret"])
    ticket, _ = service.ticket(URI, prompt, f"{URI}?command={fake.path}")
    assert ticket.wrapper is not None
    directory = ticket.wrapper.parent
    env = {
        **os.environ,
        "SSH_ASKPASS": str(directory / "askpass"),
        "BTUI_ASKPASS_SOCKET": str(directory / "socket"),
        "BTUI_ASKPASS_TOKEN": "0" * 32,
    }
    done = subprocess.run([str(fake.path)], env=env, capture_output=True, timeout=30)
    assert done.returncode in KILLED
    assert prompt.asked == [] and not fake.finished


def test_a_closed_ticket_answers_nothing_and_its_wrapper_is_gone(
    service: AskpassService, tmp_path: Path
) -> None:
    fake = FakeSsh(tmp_path, [PASSWORD])
    prompt = Prompt(["s3cret"])
    ticket, _ = service.ticket(URI, prompt, f"{URI}?command={fake.path}")
    wrapper = ticket.wrapper
    assert wrapper is not None and wrapper.exists()
    directory = wrapper.parent
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700  # nobody else reaches the socket
    assert stat.S_IMODE(wrapper.stat().st_mode) == 0o700
    ticket.close()
    assert not wrapper.exists()
    # The same words an ssh of that ticket would send, too late: nobody answers.
    env = {
        **os.environ,
        "SSH_ASKPASS": str(directory / "askpass"),
        "BTUI_ASKPASS_SOCKET": str(directory / "socket"),
        "BTUI_ASKPASS_TOKEN": ticket.token,
    }
    done = subprocess.run([str(fake.path)], env=env, capture_output=True, timeout=30)
    assert done.returncode in KILLED and prompt.asked == []


def test_askpass_with_the_app_gone_ends_ssh(service: AskpassService, tmp_path: Path) -> None:
    fake = FakeSsh(tmp_path, [PASSWORD])
    ticket, _ = service.ticket(URI, Prompt(["s3cret"]), f"{URI}?command={fake.path}")
    assert ticket.wrapper is not None
    wrapper = ticket.wrapper.read_text()
    service.close()  # the socket and its directory are removed
    assert not ticket.wrapper.parent.exists()
    script = tmp_path / "wrapper"
    script.write_text(wrapper)
    script.chmod(0o700)
    assert run(script) != 0
    assert not fake.finished


# -- open_connection with a fake ssh that asks, then fails the open ------------------------


def _open_through(fake: FakeSsh, prompt: Prompt | None) -> ConnectError:
    with pytest.raises(ConnectError) as info:
        open_connection(f"{URI}?command={fake.path}", prompt=prompt)
    return info.value


def test_open_skipped_is_cancelled(tmp_path: Path) -> None:
    fake = FakeSsh(tmp_path, [PASSWORD], status=1)
    prompt = Prompt(None)
    error = _open_through(fake, prompt)
    assert error.cancelled and error.reason == AUTH_SKIPPED
    assert not error.needs_credentials
    # libvirt ran the wrapper: ssh had our askpass, forced.
    assert fake.start["require"] == "force" and "localhost" in fake.start["argv"]
    assert prompt.asked == [(f"{URI}?command={fake.path}", [(CRED_NOECHOPROMPT, PASSWORD)])]


def test_open_with_a_refused_host_key_says_so(tmp_path: Path) -> None:
    fake = FakeSsh(tmp_path, [HOST_KEY], status=1)
    error = _open_through(fake, Prompt(["no"]))
    assert error.cancelled and error.reason == "host key not accepted"
    assert fake.answers() == [("no\n", 0)]


def test_open_that_fails_after_an_answer_is_libvirts_error(tmp_path: Path) -> None:
    fake = FakeSsh(tmp_path, [PASSWORD], status=1)
    error = _open_through(fake, Prompt(["wrong"]))
    assert not error.cancelled and not error.needs_credentials
    assert error.reason not in (AUTH_SKIPPED, "host key not accepted")
    assert fake.answers() == [("wrong\n", 0)], (error.reason, fake.lines())


def test_open_with_no_prompt_and_no_terminal_fails_with_one_clear_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(askpass, "has_terminal", lambda: False)
    fake = FakeSsh(tmp_path, [PASSWORD], status=1)
    error = _open_through(fake, None)
    assert error.needs_credentials and not error.cancelled
    assert "no terminal" in error.reason and "password" in error.reason
    assert "\n" not in error.reason


def test_open_with_no_prompt_from_a_terminal_leaves_ssh_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `--once` from a terminal: ssh may ask there, as under virsh (no wrapper, no askpass).
    monkeypatch.setattr(askpass, "has_terminal", lambda: True)
    fake = FakeSsh(tmp_path, [], status=1)
    error = _open_through(fake, None)
    assert fake.start["require"] is None and fake.start["askpass"] is None
    assert not error.cancelled and not error.needs_credentials


def test_a_closed_service_does_not_take_the_questions_of_a_later_one(tmp_path: Path) -> None:
    # A closed service's thread sat on in accept(); the next listening socket, given the
    # same descriptor (the app's own service, here open_connection's), saw its connections
    # taken by that thread, which knew none of its tickets.
    for _ in range(10):
        old = AskpassService()
        old.ticket(URI, Prompt(), URI)
        old.close()
    fake = FakeSsh(tmp_path, [PASSWORD], status=1)
    for attempt in range(10):
        prompt = Prompt(None)
        assert _open_through(fake, prompt).reason == AUTH_SKIPPED, attempt
        assert len(prompt.asked) == 1
