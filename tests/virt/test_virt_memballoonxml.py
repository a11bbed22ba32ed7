"""Only `<devices><memballoon>` changes: every other byte of the config stays as it was (other
tools' metadata prefixes, newlines in attributes, a memballoon-looking element elsewhere)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from balloon_tui.core.balloonknobs import BalloonKnobs
from balloon_tui.virt.memballoonxml import MemballoonXmlError, with_knobs

HEAD = (
    "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
    "  <name>n\u00e9</name>\n"
    "  <metadata>\n"
    "    <other:note xmlns:other='urn:other' text='a&#10;b'><memballoon model='x'/></other:note>\n"
    "  </metadata>\n"
    "  <devices>\n"
)
TAIL = "\n  </devices>\n  <qemu:commandline><qemu:arg value='-x'/></qemu:commandline>\n</domain>"


def _balloon(xml: str) -> ET.Element:
    found = ET.fromstring(xml).find("./devices/memballoon")
    assert found is not None
    return found


@pytest.mark.parametrize(
    "element",
    [
        "<memballoon model='virtio'/>",
        "<memballoon model='virtio' autodeflate='off'>\n      <stats period='2'/>\n"
        "      <address type='pci' bus='0x00'/>\n    </memballoon>",
        '<memballoon model="virtio" freePageReporting="on" ><alias name="balloon0"/></memballoon >',
    ],
    ids=["empty", "children", "spaces"],
)
def test_only_the_memballoon_changes(element: str):
    xml = HEAD + "    " + element + TAIL
    edited = with_knobs(xml, BalloonKnobs(True, True, 9))
    assert edited.startswith(HEAD + "    <memballoon ") and edited.endswith(TAIL)
    balloon = _balloon(edited)
    assert (balloon.get("autodeflate"), balloon.get("freePageReporting")) == ("on", "on")
    assert [s.get("period") for s in balloon.findall("stats")] == ["9"]
    kept = [child.tag for child in _balloon(xml) if child.tag != "stats"]
    assert [child.tag for child in balloon if child.tag != "stats"] == kept


def test_off_where_absent_stays_absent_and_no_period_drops_the_stats():
    xml = (
        HEAD
        + "    <memballoon model='virtio' autodeflate='on'><stats period='2'/></memballoon>"
        + TAIL
    )
    balloon = _balloon(with_knobs(xml, BalloonKnobs(False, False, 0)))
    assert balloon.attrib == {"model": "virtio", "autodeflate": "off"}
    assert balloon.find("stats") is None


def test_a_domain_without_a_balloon_or_not_xml_is_refused():
    with pytest.raises(MemballoonXmlError, match="no <memballoon> device"):
        with_knobs(HEAD + TAIL, BalloonKnobs())  # the one in the metadata is not the device
    with pytest.raises(MemballoonXmlError, match="does not parse"):
        with_knobs("<domain><devices>", BalloonKnobs())
