"""A virDomain with virtio-mem devices at the libvirt boundary: libvirt's test driver has no
virDomainUpdateDeviceFlags, so the device writer is tested against this stand-in (and the UI
through it, with the real writer and audit)."""

from __future__ import annotations

import libvirt

UUID = "00000000-0000-4000-8000-000000000001"

DEVICE = """<memory model='virtio-mem'>
      <target>
        <size unit='KiB'>{size}</size>
        <node>{node}</node>
        <block unit='KiB'>2048</block>
        <requested unit='KiB'>{requested}</requested>
        {current}
      </target>
      {alias}
      <address type='pci' domain='0x0000' bus='0x00' slot='0x0{slot}' function='0x0'/>
    </memory>"""


def domain_xml(*, live: bool) -> str:
    devices = "".join(
        DEVICE.format(
            size=524288,
            node=node,
            requested=65536,
            current="<current unit='KiB'>65536</current>" if live else "",
            alias=f"<alias name='virtiomem{node}'/>" if live else "",
            slot=node + 2,
        )
        for node in (0, 1)
    )
    return f"""<domain type='kvm'><name>vm</name><uuid>{UUID}</uuid>
  <memory unit='KiB'>1572864</memory>
  <devices><memballoon model='virtio'/>{devices}</devices></domain>"""


def libvirt_error(code: int, message: str) -> libvirt.libvirtError:
    exc = libvirt.libvirtError(message)
    exc.err = (code, 10, message, 2, None, None, None, 0, 0)
    return exc


class FakeDomain:
    """The virDomain calls the writer makes, recorded."""

    def __init__(self, state: int = libvirt.VIR_DOMAIN_RUNNING) -> None:
        self.state = state
        self.calls: list[tuple[str, int]] = []
        self.fail: list[libvirt.libvirtError] = []

    def info(self) -> list[int]:
        return [self.state, 1572864, 589824, 1, 0]

    def XMLDesc(self, flags: int = 0) -> str:
        live = not flags & libvirt.VIR_DOMAIN_XML_INACTIVE and self.state != 5
        return domain_xml(live=live)

    def updateDeviceFlags(self, xml: str, flags: int = 0) -> int:
        self.calls.append((xml, flags))
        if self.fail:
            raise self.fail.pop(0)
        return 0


class FakeConnection:
    def __init__(self, dom: FakeDomain) -> None:
        self.dom = dom

    def lookupByUUIDString(self, uuid: str) -> FakeDomain:
        if uuid != UUID:
            raise libvirt_error(libvirt.VIR_ERR_NO_DOMAIN, "Domain not found")
        return self.dom
