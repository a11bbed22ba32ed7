"""Test-driver node files written by the tests themselves (the shape of scripts/gen_demo.py).

    specs = [DomainSpec("web", max_kib=4 * GIB, current_kib=2 * GIB)]
    uri = write_node_file(tmp_path / "node.xml", specs)      # "test:///abs/path/node.xml"

Each `test:///abs/path.xml` open has its own state, so every test gets a fresh host.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

KIB = 1
MIB = 1024
GIB = 1024 * 1024

RUNNING = 1
PAUSED = 3
SHUTOFF = 5

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
DEFAULT_HOST_MEMORY_KIB = 64 * GIB


def uuid_for(index: int) -> str:
    return f"7e570000-0000-4000-8000-{index:012d}"


@dataclass(frozen=True)
class VirtioMem:
    """One `<memory model='virtio-mem'>` device (alias: a user alias, "ua-" and more, which
    the test driver keeps; it writes `<current>` 0 in the live XML whatever was asked)."""

    size_kib: int
    block_kib: int = 2 * MIB
    requested_kib: int = 0
    alias: str | None = "ua-vmem0"
    node: int = 0

    def xml(self) -> str:
        alias = f"<alias name='{escape(self.alias)}'/>" if self.alias is not None else ""
        return (
            "<memory model='virtio-mem'><target>"
            f"<size unit='KiB'>{self.size_kib}</size><node>{self.node}</node>"
            f"<block unit='KiB'>{self.block_kib}</block>"
            f"<requested unit='KiB'>{self.requested_kib}</requested>"
            f"</target>{alias}</memory>"
        )


@dataclass(frozen=True)
class DomainSpec:
    """One `<domain type='test'>`.

    balloon: a memballoon model ("virtio", "none", ...) or None for no `<memballoon>` at all.
    current_kib: None means "at the maximum".
    uuid: None means uuid_for(position in the list + 1).
    """

    name: str
    max_kib: int = 1 * GIB
    current_kib: int | None = None
    runstate: int = RUNNING
    balloon: str | None = "virtio"
    autodeflate: bool = False
    free_page_reporting: bool = False
    stats_period: int = 0
    uuid: str | None = None
    # virtio-mem devices: max_kib counts them (boot memory = max_kib − their sizes)
    virtio_mem: tuple[VirtioMem, ...] = ()

    def resolved_uuid(self, index: int) -> str:
        return self.uuid or uuid_for(index + 1)

    @property
    def actual_kib(self) -> int:
        return self.max_kib if self.current_kib is None else self.current_kib


def xml_text(text: str) -> str:
    """`text` as XML character data that parses back to exactly `text`: markup characters and
    every control character as references (a raw CR would be read as a newline; XML 1.0 has
    no way at all to write the other C0 controls, nor U+FFFE and U+FFFF)."""
    return "".join(
        f"&#{ord(c)};" if c in "&<>\"'" or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F else c
        for c in text
    )


def memballoon_xml(spec: DomainSpec) -> str:
    if spec.balloon is None:
        return ""
    attrs = f"model='{escape(spec.balloon)}'"
    if spec.autodeflate:
        attrs += " autodeflate='on'"
    if spec.free_page_reporting:
        attrs += " freePageReporting='on'"
    stats = f"<stats period='{spec.stats_period}'/>" if spec.stats_period else ""
    if not stats:
        return f"<memballoon {attrs}/>"
    return f"<memballoon {attrs}>{stats}</memballoon>"


def domain_xml(spec: DomainSpec, uuid: str, *, runstate: bool = True) -> str:
    """The `<domain>` element; runstate=False leaves out `<test:runstate>` (for defineXML)."""
    state = f"\n    <test:runstate>{spec.runstate}</test:runstate>" if runstate else ""
    hotplug = devices = ""
    if spec.virtio_mem:
        boot = spec.max_kib - sum(m.size_kib for m in spec.virtio_mem)
        # As on a real host: memory slots and a NUMA cell for the devices to plug into.
        hotplug = (
            f"\n    <maxMemory slots='4' unit='KiB'>{2 * spec.max_kib}</maxMemory>"
            f"\n    <cpu><numa><cell id='0' cpus='0' memory='{boot}' unit='KiB'/></numa></cpu>"
        )
        devices = "".join(m.xml() for m in spec.virtio_mem)
    return f"""  <domain type='test'>
    <name>{xml_text(spec.name)}</name>
    <uuid>{uuid}</uuid>{hotplug}
    <memory unit='KiB'>{spec.max_kib}</memory>
    <currentMemory unit='KiB'>{spec.actual_kib}</currentMemory>
    <vcpu>1</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices>{memballoon_xml(spec)}{devices}</devices>{state}
  </domain>
"""


def node_xml(domains: Sequence[DomainSpec], host_memory_kib: int = DEFAULT_HOST_MEMORY_KIB) -> str:
    body = "".join(domain_xml(spec, spec.resolved_uuid(i)) for i, spec in enumerate(domains))
    return f"""<?xml version='1.0'?>
<node xmlns:test='{TEST_NS}'>
  <cpu><mhz>2000</mhz><model>x86_64</model><active>4</active><nodes>1</nodes>
    <sockets>1</sockets><cores>4</cores><threads>1</threads></cpu>
  <memory>{host_memory_kib}</memory>
{body}</node>
"""


def write_node_file(
    path: Path | str,
    domains: Sequence[DomainSpec],
    host_memory_kib: int = DEFAULT_HOST_MEMORY_KIB,
) -> str:
    """Write the node file and return its `test:///abs/path.xml` URI."""
    target = Path(path).resolve()
    target.write_text(node_xml(domains, host_memory_kib))
    return f"test://{target}"


def many_domains(count: int) -> list[DomainSpec]:
    """A varied fleet: every 7th shut off, every 5th paused, every 11th without a balloon."""
    specs = []
    for i in range(count):
        maximum = (1 + i % 8) * GIB
        specs.append(
            DomainSpec(
                name=f"guest-{i:04d}",
                max_kib=maximum,
                current_kib=maximum - (i % 4) * 128 * MIB,
                runstate=SHUTOFF if i % 7 == 0 else PAUSED if i % 5 == 0 else RUNNING,
                balloon="none" if i % 11 == 0 else "virtio",
                stats_period=i % 3,
            )
        )
    return specs


# A test-driver node that asks for credentials: openAuth asks VIR_CRED_AUTHNAME, then
# VIR_CRED_PASSPHRASE; a wrong answer is error 45 (VIR_ERR_AUTH_FAILED).
AUTH_USER, AUTH_PASSWORD = "admin", "s3cret"
AUTH_NODE = f"""<?xml version='1.0'?>
<node>
  <auth><user password='{AUTH_PASSWORD}'>{AUTH_USER}</user></auth>
  <domain type='test'><name>guarded</name><memory>1048576</memory>
    <currentMemory>1048576</currentMemory><vcpu>1</vcpu>
    <os><type arch='x86_64'>hvm</type></os><devices><memballoon model='virtio'/></devices>
  </domain>
</node>
"""


def add_metadata(uri: str, name: str, *elements: str) -> str:
    """Give the domain called `name` in the node file behind `uri` these elements of live
    metadata, as any client of libvirtd could write them; returns `uri`."""
    path = Path(uri.removeprefix("test://"))
    marker = f"<name>{escape(name)}</name>"
    text = path.read_text()
    if marker not in text:
        raise ValueError(f"no domain {name!r} in {path}")
    block = f"\n    <metadata>{''.join(elements)}</metadata>"
    path.write_text(text.replace(marker, marker + block, 1))
    return uri
