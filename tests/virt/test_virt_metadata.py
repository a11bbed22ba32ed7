"""Live domain metadata written by someone else: read from the domain XML, checked against
the guest's range, adopted only when it fits; otherwise the snapshot says why."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from nodefiles import GIB, MIB, SHUTOFF, DomainSpec, add_metadata, uuid_for

from balloon_tui.core.model import Convergence
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteSource
from balloon_tui.virt import domainxml, metadata
from balloon_tui.virt.domainxml import METADATA_NAMESPACE
from balloon_tui.virt.session import HostSession

SPECS = [
    DomainSpec("guest", max_kib=4 * GIB, current_kib=3 * GIB, stats_period=2),
    DomainSpec("off", max_kib=4 * GIB, current_kib=3 * GIB, runstate=SHUTOFF),
]
GUEST = uuid_for(1)


def ours(tag: str) -> str:
    """An element of ours with no attributes."""
    return f"<btui:{tag} xmlns:btui='{METADATA_NAMESPACE}'/>"


def target(kib: object) -> str:
    return f"<btui:target xmlns:btui='{METADATA_NAMESPACE}' kib='{kib}' by='x' at='1'/>"


NESTED = (
    f"<btui:target xmlns:btui='{METADATA_NAMESPACE}' kib='{2 * GIB}'>"
    f"<btui:target kib='{GIB}'/></btui:target>"
)


def _domain(metadata_xml: str) -> str:
    return f"<domain><memory unit='KiB'>100</memory><metadata>{metadata_xml}</metadata></domain>"


# -- reading the XML ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("block", "found"),
    [
        ("", ()),
        ("<app xmlns='urn:other' kib='5'/>", ()),  # another tool's metadata: not ours
        (target(2 * GIB), (str(2 * GIB),)),
        (target("lots"), ("lots",)),
        (target(1) + target(2), ("1", "2")),
        (ours("target"), (None,)),  # no kib
        (f"<btui:limit xmlns:btui='{METADATA_NAMESPACE}' kib='5'/>", (None,)),  # not a target
        (f"<btui:target xmlns:btui='{METADATA_NAMESPACE}' kib='5'><x/></btui:target>", (None,)),
        ("<target kib='5'/>", ()),  # no namespace: not ours
    ],
    ids=["empty", "foreign", "target", "junk", "two", "no-kib", "other-name", "children", "no-ns"],
)
def test_every_element_of_ours_is_found(block: str, found: tuple[str | None, ...]) -> None:
    assert metadata.remembered(domainxml.parse(_domain(block))) == found


def test_no_xml_no_metadata() -> None:
    assert metadata.remembered(None) == ()
    assert metadata.remembered(domainxml.parse("<domain/>")) == ()
    assert domainxml.parse("not xml <") is None


@pytest.mark.parametrize(
    ("xml", "maximum"),
    [
        ("<domain><memory unit='KiB'>4194304</memory></domain>", 4 * GIB),
        ("<domain><memory>4194304</memory></domain>", 4 * GIB),  # KiB is libvirt's default
        ("<domain><memory unit='MiB'>4096</memory></domain>", None),  # libvirt writes KiB
        ("<domain><memory unit='KiB'>-1</memory></domain>", None),
        ("<domain><memory unit='KiB'>4G</memory></domain>", None),
        (f"<domain><memory unit='KiB'>{'9' * 5000}</memory></domain>", None),
        ("<domain/>", None),
    ],
)
def test_the_maximum_from_the_xml(xml: str, maximum: int | None) -> None:
    assert domainxml.maximum_kib(domainxml.parse(xml)) == maximum


def test_the_xml_maximum_is_the_one_the_poll_reports(
    node: Callable[..., str], sessions: Callable[..., HostSession]
) -> None:
    host = sessions(node(SPECS))
    dom = host.connection().lookupByUUIDString(GUEST)
    assert domainxml.maximum_kib(domainxml.parse(dom.XMLDesc(0))) == dom.info()[1] == 4 * GIB


# -- the session: adopt, or say why not ----------------------------------------------------------
@pytest.mark.parametrize(
    ("elements", "words"),
    [
        (
            [target(8 * GIB)],
            "remembered target 8.00 GiB in metadata ignored: above the maximum 4.00 GiB",
        ),
        ([target(1)], "remembered target 1 KiB in metadata ignored: below the minimum 1.00 MiB"),
        ([target(0)], "below the minimum 1.00 MiB"),
        ([target(-5)], "'-5' in metadata ignored: not a size in KiB"),
        ([target("lots")], "'lots' in metadata ignored: not a size in KiB"),
        ([target(10**40)], "above the maximum 4.00 GiB"),
        ([target("x" * 50_000)], "not a size in KiB"),
        ([NESTED], "not a <target kib='…'/> element"),
        ([ours("target")], "not a <target kib='…'/> element"),
    ],
    ids=["above", "1KiB", "zero", "negative", "text", "huge", "long", "nested", "no-kib"],
)
def test_foreign_metadata_out_of_range_is_not_adopted(
    node: Callable[..., str],
    sessions: Callable[..., HostSession],
    elements: list[str],
    words: str,
) -> None:
    host = sessions(add_metadata(node(SPECS), "guest", *elements))
    for _tick in range(2):  # the second tick reuses the snapshot: the note stays
        d = next(d for d in host.poll().domains if d.name == "guest")
        assert d.target_kib is None  # unknown: the table shows "–", a step starts at actual
        assert d.progress.state is Convergence.NONE
        assert d.metadata_note is not None and words in d.metadata_note
        assert len(d.metadata_note) < 110
    assert host.targets.get((host.uri, GUEST)) is None


def test_libvirt_keeps_one_element_per_namespace(
    node: Callable[..., str], sessions: Callable[..., HostSession]
) -> None:
    """Several elements of ours reach libvirt only as the first one: libvirt drops the rest
    when it parses the XML (check_remembered still refuses several, should one get through)."""
    host = sessions(add_metadata(node(SPECS), "guest", target(2 * GIB), target(8 * GIB)))
    xml = host.connection().lookupByUUIDString(GUEST).XMLDesc(0)
    assert metadata.remembered(domainxml.parse(xml)) == (str(2 * GIB),)


def test_metadata_in_range_is_adopted_without_a_note(
    node: Callable[..., str], sessions: Callable[..., HostSession]
) -> None:
    host = sessions(add_metadata(node(SPECS), "guest", target(2 * GIB)))
    d = next(d for d in host.poll().domains if d.name == "guest")
    assert d.target_kib == 2 * GIB
    assert d.metadata_note is None
    assert d.pending and d.inflating  # 3 GiB going to the remembered 2 GiB


def test_a_target_of_ours_replaces_the_ignored_one_and_its_note(
    node: Callable[..., str], sessions: Callable[..., HostSession]
) -> None:
    host = sessions(add_metadata(node(SPECS), "guest", target(8 * GIB)))
    assert next(d for d in host.poll().domains if d.name == "guest").metadata_note
    wanted = 3 * GIB - 64 * MIB
    request = TargetRequest(
        host.uri, GUEST, "guest", wanted, ApplyMode.LIVE, source=WriteSource.TYPED
    )
    assert host.set_target(request).ok
    d = next(d for d in host.poll().domains if d.name == "guest")
    assert (d.target_kib, d.metadata_note) == (wanted, None)
    xml = host.connection().lookupByUUIDString(GUEST).XMLDesc(0)
    assert metadata.remembered(domainxml.parse(xml)) == (str(wanted),)


def test_a_shut_off_guest_has_no_live_metadata_to_adopt(
    node: Callable[..., str], sessions: Callable[..., HostSession]
) -> None:
    host = sessions(add_metadata(node(SPECS), "off", target(2 * GIB)))
    d = next(d for d in host.poll().domains if d.name == "off")
    assert (d.target_kib, d.metadata_note) == (None, None)
