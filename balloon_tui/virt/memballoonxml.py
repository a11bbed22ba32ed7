"""Editing `<devices><memballoon>` in a domain's config XML, and nothing else of it.

The config goes back to libvirt whole (`defineXML`), so only the memballoon element is
rewritten: the rest keeps its bytes. ElementTree would write every other namespace with its
own prefixes (`ns0:` for another tool's metadata, for `qemu:commandline`), and minidom (in
Python 3.11) writes a newline in an attribute raw, which the next parse reads as a space.
expat finds where the element starts and ends.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.parsers import expat

from balloon_tui.core.balloonknobs import BalloonKnobs

_PATH = ["domain", "devices", "memballoon"]


class MemballoonXmlError(ValueError):
    """The XML has no memballoon element we can edit."""


def _span(data: bytes) -> tuple[int, int]:
    """Where the domain's own `<memballoon …>…</memballoon>` (or `<memballoon …/>`) lies."""
    parser = expat.ParserCreate()
    path: list[str] = []
    found: list[int] = []

    def start(name: str, _attributes: object) -> None:
        path.append(name)
        if path == _PATH and not found:
            found.append(parser.CurrentByteIndex)

    def end(_name: str) -> None:
        if path == _PATH and len(found) == 1:
            found.append(parser.CurrentByteIndex)
        path.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise MemballoonXmlError(f"the domain XML does not parse: {exc}") from None
    if len(found) != 2:
        raise MemballoonXmlError("the domain XML has no <memballoon> device")
    begin, end_at = found
    # expat reports an end tag where `</memballoon` begins, and an empty element's end just
    # after its `/>`.
    closing = b"</memballoon"
    if data.startswith(closing, end_at) and data[end_at + len(closing) : end_at + 13] in (
        b">",
        b" ",
        b"\t",
        b"\n",
        b"\r",
    ):
        end_at = data.index(b">", end_at) + 1
    return begin, end_at


def _flag(element: ET.Element, name: str, wanted: bool) -> None:
    """Write the attribute only when it changes: an absent one means off, and stays absent."""
    if (element.get(name) == "on") != wanted:
        element.set(name, "on" if wanted else "off")


def with_knobs(xml_text: str, knobs: BalloonKnobs) -> str:
    """`xml_text` (a domain's config) with its memballoon set to `knobs`.

    Raises MemballoonXmlError when there is no memballoon to edit.
    """
    data = xml_text.encode()
    begin, end = _span(data)
    try:
        element = ET.fromstring(data[begin:end])
    except ET.ParseError as exc:  # a prefix declared further up: not libvirt's memballoon
        raise MemballoonXmlError(f"its <memballoon> cannot be edited alone: {exc}") from None
    _flag(element, "autodeflate", knobs.autodeflate)
    _flag(element, "freePageReporting", knobs.free_page_reporting)
    stats = element.find("stats")
    if knobs.stats_period > 0:
        if stats is None:
            stats = ET.Element("stats")
            element.insert(0, stats)
        stats.set("period", str(knobs.stats_period))
    elif stats is not None:
        element.remove(stats)  # no period: no guest stats (libvirt writes none either)
    edited = ET.tostring(element, encoding="unicode").encode()
    return (data[:begin] + edited + data[end:]).decode()
