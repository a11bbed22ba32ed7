"""Log-in questions as ssh and libvirt word them: secrets, names, host keys (with the answer
words each asker expects) and the fingerprint shown to the operator."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balloon_tui.core.questions import (
    ALL_CREDENTIALS,
    CRED_AUTHNAME,
    CRED_ECHOPROMPT,
    CRED_NOECHOPROMPT,
    CRED_PASSPHRASE,
    CRED_USERNAME,
    QuestionKind,
    classify,
    from_ssh,
)

# openssh-server 9.2's words, as its askpass program receives them.
SSH_HOST_KEY = (
    "The authenticity of host '[localhost]:2222 ([127.0.0.1]:2222)' can't be established.\n"
    "ED25519 key fingerprint is SHA256:7bXlDsW5SaunRG+UqKAJMETLCkZM/lEy1sqR5mAqp1w.\n"
    "This key is not known by any other names.\n"
    "Are you sure you want to continue connecting (yes/no/[fingerprint])? "
)
SSH_FINGERPRINT = "SHA256:7bXlDsW5SaunRG+UqKAJMETLCkZM/lEy1sqR5mAqp1w"
SSH_AGAIN = "Please type 'yes', 'no' or the fingerprint: "
SSH_PASSWORD = "btui-ssh-pw@localhost's password: "
SSH_PASSPHRASE = "Enter passphrase for key '/root/.ssh/id_ed25519': "
# libvirt's libssh transport (ECHOPROMPT for the host key, PASSPHRASE for the password).
LIBSSH_HASH = (
    "ed:b5:e5:0e:c5:b9:49:ab:a7:44:6f:94:a8:a0:09:30:44:"
    "cb:0a:46:4c:fe:51:32:d6:ca:91:e6:60:2a:a7:5c"
)
LIBSSH_HOST_KEY = f"Accept SSH host key with hash '{LIBSSH_HASH}' for host 'localhost:2222' (y/n)?"
LIBSSH_PASSWORD = "Enter btui-ssh-pw's password for localhost"


def test_sshs_host_key_question_is_a_yes_no_host_key_with_its_fingerprint() -> None:
    credential, words = from_ssh(SSH_HOST_KEY)
    assert (credential, words) == (CRED_ECHOPROMPT, SSH_HOST_KEY)
    question = classify(credential, words)
    assert question.kind is QuestionKind.HOST_KEY
    assert (question.accept, question.refuse) == ("yes", "no")
    assert question.fingerprint == SSH_FINGERPRINT  # whole, without the full stop
    assert question.prompt == SSH_HOST_KEY


def test_sshs_second_asking_is_still_a_host_key() -> None:
    question = classify(*from_ssh(SSH_AGAIN))
    assert question.kind is QuestionKind.HOST_KEY
    assert (question.accept, question.refuse) == ("yes", "no")
    assert question.fingerprint is None


@pytest.mark.parametrize("words", [SSH_PASSWORD, SSH_PASSPHRASE])
def test_sshs_password_and_passphrase_are_secrets(words: str) -> None:
    credential, _ = from_ssh(words)
    assert credential == CRED_NOECHOPROMPT
    question = classify(credential, words)
    assert question.kind is QuestionKind.SECRET
    assert (question.accept, question.refuse) == ("", "")


def test_sshs_confirm_hint_is_an_echoed_question() -> None:
    # ssh-agent's "Allow use of key ...?" comes with SSH_ASKPASS_PROMPT=confirm.
    assert from_ssh("Allow use of key /root/.ssh/id_ed25519?", "confirm")[0] == CRED_ECHOPROMPT
    assert from_ssh("Allow use of key /root/.ssh/id_ed25519?")[0] == CRED_NOECHOPROMPT


def test_libssh_host_key_is_a_y_n_host_key_with_its_hash() -> None:
    question = classify(CRED_ECHOPROMPT, LIBSSH_HOST_KEY)
    assert question.kind is QuestionKind.HOST_KEY
    assert (question.accept, question.refuse) == ("y", "n")
    assert question.fingerprint == LIBSSH_HASH


def test_libssh_password_is_a_secret() -> None:
    question = classify(CRED_PASSPHRASE, LIBSSH_PASSWORD)
    assert question.kind is QuestionKind.SECRET
    assert question.fingerprint is None


@pytest.mark.parametrize("credential", [CRED_PASSPHRASE, CRED_NOECHOPROMPT])
@pytest.mark.parametrize("words", [LIBSSH_HOST_KEY, SSH_HOST_KEY])
def test_a_secret_is_never_a_host_key_whatever_its_words(credential: int, words: str) -> None:
    # Answering a secret with a visible "y" button would show, or send, the wrong thing.
    assert classify(credential, words).kind is QuestionKind.SECRET


@pytest.mark.parametrize(
    ("credential", "kind"),
    [
        (CRED_USERNAME, QuestionKind.NAME),
        (CRED_AUTHNAME, QuestionKind.NAME),
        (CRED_ECHOPROMPT, QuestionKind.TEXT),
        (8, QuestionKind.TEXT),  # a SASL realm
    ],
)
def test_other_questions_by_credential_type(credential: int, kind: QuestionKind) -> None:
    assert classify(credential, "Please enter your authentication name: ").kind is kind


def test_every_credential_type_libvirt_defines_is_offered() -> None:
    assert tuple(range(1, 10)) == ALL_CREDENTIALS


@given(credential=st.integers(min_value=-5, max_value=20), words=st.text(max_size=300))
def test_classify_never_raises_and_always_says_a_kind(credential: int, words: str) -> None:
    question = classify(credential, words)
    assert isinstance(question.kind, QuestionKind)
    assert question.prompt == words
    if credential in (CRED_PASSPHRASE, CRED_NOECHOPROMPT):
        assert question.kind is QuestionKind.SECRET
    if question.kind is QuestionKind.HOST_KEY:
        assert (question.accept, question.refuse) in {("yes", "no"), ("y", "n")}
    fingerprint = question.fingerprint
    assert fingerprint is None or fingerprint in words
