"""What a log-in question is, from libvirt's credential type and the words of the question.

The questions come from libvirt's auth callback (SASL, libssh, libssh2) and from the `ssh`
binary through our askpass helper, which maps them onto the same credential types: a
secret (no echo), a name, plain text, or a host key to accept or refuse. The words are
foreign text (the remote server's, libvirt's): the caller shows them, never trusts them.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

# libvirt's virConnectCredentialType (core/ imports no libvirt).
CRED_USERNAME = 1
CRED_AUTHNAME = 2
CRED_LANGUAGE = 3
CRED_CNONCE = 4
CRED_PASSPHRASE = 5
CRED_ECHOPROMPT = 6
CRED_NOECHOPROMPT = 7
CRED_REALM = 8
CRED_EXTERNAL = 9
ALL_CREDENTIALS = (
    CRED_USERNAME,
    CRED_AUTHNAME,
    CRED_LANGUAGE,
    CRED_CNONCE,
    CRED_PASSPHRASE,
    CRED_ECHOPROMPT,
    CRED_NOECHOPROMPT,
    CRED_REALM,
    CRED_EXTERNAL,
)
SECRET_CREDENTIALS = frozenset({CRED_PASSPHRASE, CRED_NOECHOPROMPT})
NAME_CREDENTIALS = frozenset({CRED_USERNAME, CRED_AUTHNAME})

# ssh: "Are you sure you want to continue connecting (yes/no/[fingerprint])? " and, after
# an answer it did not take, "Please type 'yes', 'no' or the fingerprint: ".
# libvirt's libssh/libssh2: "Accept SSH host key with hash '…' for host '…' (y/n)?"
_YES_NO = re.compile(r"\(yes/no[^)]*\)|'yes', 'no'", re.IGNORECASE)
_Y_N = re.compile(r"\(y/n\)", re.IGNORECASE)
_FINGERPRINT = re.compile(r"(?:SHA256:[A-Za-z0-9+/=]{20,}|(?:[0-9A-Fa-f]{2}:){15,}[0-9A-Fa-f]{2})")


class QuestionKind(enum.Enum):
    SECRET = "secret"  # typed without echo
    NAME = "name"  # a user name: the last one typed for the host is offered again
    TEXT = "text"  # anything else to type, echoed
    HOST_KEY = "host-key"  # accept or refuse a host key: buttons, refuse by default


@dataclass(frozen=True, slots=True)
class Question:
    kind: QuestionKind
    credential: int
    prompt: str  # the question's own words, as asked
    accept: str = ""  # HOST_KEY: the answer that accepts the key ("yes" or "y")
    refuse: str = ""  # HOST_KEY: the answer that refuses it ("no" or "n")

    @property
    def fingerprint(self) -> str | None:
        """The key's fingerprint quoted in a host-key question (shown whole), if any."""
        found = _FINGERPRINT.search(self.prompt)
        return found.group(0) if found else None


def classify(credential: int, prompt: str) -> Question:
    """The question libvirt (or ssh through askpass) asks as credential type `credential`."""
    if credential not in SECRET_CREDENTIALS:
        if _YES_NO.search(prompt):
            return Question(QuestionKind.HOST_KEY, credential, prompt, "yes", "no")
        if _Y_N.search(prompt):
            return Question(QuestionKind.HOST_KEY, credential, prompt, "y", "n")
    if credential in SECRET_CREDENTIALS:
        return Question(QuestionKind.SECRET, credential, prompt)
    if credential in NAME_CREDENTIALS:
        return Question(QuestionKind.NAME, credential, prompt)
    return Question(QuestionKind.TEXT, credential, prompt)


def from_ssh(prompt: str, hint: str = "") -> tuple[int, str]:
    """An `ssh` askpass question as a credential type and its words.

    ssh's askpass carries no "echo or not": secrets are the rule (passwords, passphrases,
    PINs, one-time codes); its yes/no questions (host keys; `hint` "confirm" for an agent's
    key use) are echoed prompts."""
    if hint == "confirm" or _YES_NO.search(prompt):
        return CRED_ECHOPROMPT, prompt
    return CRED_NOECHOPROMPT, prompt


def summary(question: Question) -> str:
    """The question in a few words, for a one-line error (its words are foreign text)."""
    if question.kind is QuestionKind.HOST_KEY:
        fingerprint = question.fingerprint
        return "to accept an unknown host key" + (f" ({fingerprint})" if fingerprint else "")
    words = " ".join(question.prompt.split()).rstrip(":? ")
    return f"for {words!r}" if words else "a question"
