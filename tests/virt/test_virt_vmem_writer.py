"""virt/vmem_writer.py at the libvirt boundary: libvirt's test driver has no
virDomainUpdateDeviceFlags ("not supported by the connection driver"), so a fake virDomain
stands in for QEMU's. What is checked is what libvirt is sent: the device's own XML from the
domain's XML with only `<requested>` changed, and the flags; and the audit around it."""

from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import libvirt
import pytest
from fleet_inbox import Inbox
from nodefiles import GIB, MIB, DomainSpec, uuid_for
from vmemfakes import UUID, FakeConnection, FakeDomain, domain_xml, libvirt_error

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.model import HostStatus
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteResult, WriteSource
from balloon_tui.virt import session as session_module
from balloon_tui.virt.session import HostSession
from balloon_tui.virt.vmem_writer import device_element, request_xml, write_device

LIVE, CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG


def _request(kib: int, mode: ApplyMode = ApplyMode.LIVE, alias: str = "virtiomem1") -> Any:
    return TargetRequest(
        "qemu:///system",
        UUID,
        "vm",
        kib,
        mode,
        previous_kib=64 * MIB,
        source=WriteSource.KEY,
        device=alias,
    )


def _write(
    request: TargetRequest, dom: FakeDomain, tmp_path: Path, *, readonly: bool = False
) -> tuple[WriteResult, list[dict[str, Any]]]:
    path = tmp_path / "audit.jsonl"
    session = HostSession("qemu:///system", readonly=readonly, audit=AuditLog(path))
    result = write_device(session, FakeConnection(dom), request)  # type: ignore[arg-type]
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return result, lines


def _sent(xml: str) -> ET.Element:
    return ET.fromstring(xml)


def test_a_live_request_sends_the_device_s_own_live_xml_with_only_requested_changed(
    tmp_path: Path,
) -> None:
    dom = FakeDomain()
    result, audit = _write(_request(448 * MIB), dom, tmp_path)
    assert result.ok and result.flags == LIVE
    [(xml, flags)] = dom.calls
    assert flags == LIVE
    sent = _sent(xml)
    assert sent.tag == "memory" and sent.get("model") == "virtio-mem"
    assert sent.find("alias").get("name") == "virtiomem1"  # the second device, not the first
    assert sent.find("target/node").text == "1"
    assert sent.find("target/requested").text == str(448 * 1024)
    assert sent.find("target/requested").get("unit") == "KiB"
    assert sent.find("target/current") is None  # the guest's number, never sent back
    assert sent.find("address").get("slot") == "0x03"
    assert sent.find("target/size").text == "524288"
    assert [line["phase"] for line in audit] == ["attempt", "result"]
    for line in audit:
        assert line["device"] == "virtio-mem" and line["alias"] == "virtiomem1"
        assert line["target_kib"] == 448 * MIB and line["flags"] == LIVE
    assert audit[1]["ok"] is True


def test_persist_mode_is_one_call_live_and_config(tmp_path: Path) -> None:
    dom = FakeDomain()
    result, _audit = _write(_request(128 * MIB, ApplyMode.LIVE_PERSIST), dom, tmp_path)
    assert result.ok
    assert [flags for _xml, flags in dom.calls] == [LIVE | CONFIG]


def test_persist_mode_falls_back_to_one_call_each_with_that_side_s_xml(tmp_path: Path) -> None:
    dom = FakeDomain()
    dom.fail.append(libvirt_error(libvirt.VIR_ERR_INVALID_ARG, "mutually exclusive"))
    result, _audit = _write(_request(128 * MIB, ApplyMode.LIVE_PERSIST), dom, tmp_path)
    assert result.ok
    assert [flags for _xml, flags in dom.calls] == [LIVE | CONFIG, LIVE, CONFIG]
    config_xml = _sent(dom.calls[2][0])
    assert config_xml.find("alias") is None  # from the inactive XML
    assert config_xml.find("target/requested").text == str(128 * 1024)


def test_a_shut_off_guest_gets_config_only_found_by_its_position(tmp_path: Path) -> None:
    dom = FakeDomain(state=libvirt.VIR_DOMAIN_SHUTOFF)
    result, audit = _write(_request(256 * MIB, ApplyMode.CONFIG), dom, tmp_path)
    assert result.ok and "config only" in result.message
    [(xml, flags)] = dom.calls
    assert flags == CONFIG
    assert _sent(xml).find("target/node").text == "1"  # virtiomem1: the second device
    assert audit[0]["mode"] == "config"


def test_a_live_request_for_a_guest_that_stopped_meanwhile_is_refused(tmp_path: Path) -> None:
    dom = FakeDomain(state=libvirt.VIR_DOMAIN_SHUTOFF)
    result, audit = _write(_request(256 * MIB), dom, tmp_path)
    assert not result.ok and "shut off now" in result.message
    assert dom.calls == []
    assert [line["phase"] for line in audit] == ["attempt", "result"]
    assert audit[1]["ok"] is False and audit[1]["alias"] == "virtiomem1"


@pytest.mark.parametrize(
    ("kib", "alias", "words"),
    [
        (3 * MIB, "virtiomem1", "not a whole number of 2.00 MiB blocks"),
        (514 * MIB, "virtiomem1", "within 0 to 512"),
        (-2 * MIB, "virtiomem1", "blocks"),
        (64 * MIB, "virtiomem7", "has no virtio-mem device virtiomem7"),
    ],
)
def test_what_libvirt_would_get_wrong_is_refused_before_any_call(
    tmp_path: Path, kib: int, alias: str, words: str
) -> None:
    dom = FakeDomain()
    result, audit = _write(_request(kib, alias=alias), dom, tmp_path)
    assert not result.ok and words in result.message
    assert dom.calls == []
    assert audit[1]["result"] == result.message


def test_read_only_is_refused_and_audited(tmp_path: Path) -> None:
    dom = FakeDomain()
    result, audit = _write(_request(128 * MIB), dom, tmp_path, readonly=True)
    assert not result.ok and "read-only" in result.message
    assert dom.calls == []
    assert audit[0]["device"] == "virtio-mem" and audit[1]["ok"] is False


def test_a_libvirt_error_comes_back_as_the_result(tmp_path: Path) -> None:
    dom = FakeDomain()
    dom.fail.append(libvirt_error(libvirt.VIR_ERR_OPERATION_INVALID, "cannot resize now"))
    result, audit = _write(_request(128 * MIB), dom, tmp_path)
    assert not result.ok and result.error_code == libvirt.VIR_ERR_OPERATION_INVALID
    assert "cannot resize now" in result.message
    assert audit[1]["error_code"] == libvirt.VIR_ERR_OPERATION_INVALID


def test_request_xml_adds_a_missing_requested_and_keeps_the_original() -> None:
    root = ET.fromstring(domain_xml(live=True))
    element = device_element(root, "virtiomem0")
    assert element is not None
    target = element.find("target")
    target.remove(target.find("requested"))
    sent = ET.fromstring(request_xml(element, 4096))
    assert sent.find("target/requested").text == "4096"
    assert element.find("target/requested") is None  # copied, not changed in place
    assert device_element(root, "virtiomem9") is None


def test_the_real_test_driver_cannot_do_it_and_says_so(node: Callable[..., str]) -> None:
    """Why a fake stands in above: the test driver refuses the call altogether."""
    uri = node([DomainSpec("vm", max_kib=GIB)])
    conn = libvirt.open(uri)
    try:
        with pytest.raises(libvirt.libvirtError) as raised:
            conn.lookupByName("vm").updateDeviceFlags("<memory model='virtio-mem'/>", LIVE)
        assert raised.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT
    finally:
        conn.close()


# -- the writer thread: device requests coalesce per device, never with the balloon's -----------
def test_device_and_balloon_requests_coalesce_apart(
    node: Callable[..., str],
    make_fleet: Callable[..., Any],
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[str | None, int]] = []
    started = threading.Event()

    def slow_device(_session: Any, _conn: Any, request: TargetRequest) -> WriteResult:
        sent.append((request.device, request.target_kib))
        started.set()
        time.sleep(0.3)
        return WriteResult(request, True, "live", flags=LIVE)

    monkeypatch.setattr(session_module, "write_device", slow_device)
    uri = node([DomainSpec("alpha", max_kib=4 * GIB, current_kib=4 * GIB)])
    fleet = make_fleet([uri], interval=0.2)
    fleet.start()
    inbox.wait(lambda i: bool(i.of(uri, HostStatus.OK)))

    def device(kib: int, alias: str = "virtiomem0") -> TargetRequest:
        return TargetRequest(uri, uuid_for(1), "alpha", kib, source=WriteSource.KEY, device=alias)

    fleet.request_target(device(2 * MIB))
    assert started.wait(5)
    for step in (4, 6, 8):
        fleet.request_target(device(step * MIB))
    fleet.request_target(device(10 * MIB, "virtiomem1"))
    fleet.request_target(TargetRequest(uri, uuid_for(1), "alpha", 3 * GIB, source=WriteSource.KEY))
    inbox.wait(lambda i: len(i.writes) >= 4, timeout=8)
    time.sleep(0.5)  # room for a wrongly queued write to go out
    assert sent == [("virtiomem0", 2 * MIB), ("virtiomem0", 8 * MIB), ("virtiomem1", 10 * MIB)]
    balloon = [w for w in inbox.writes if w.request.device is None]
    assert [(w.ok, w.request.target_kib) for w in balloon] == [(True, 3 * GIB)]
    assert len(inbox.writes) == 4


def test_a_device_size_change_event_wakes_the_poller_to_read_the_xml(
    node: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    registered: dict[int, Callable[..., None]] = {}
    original = libvirt.virConnect.domainEventRegisterAny

    def record(conn: libvirt.virConnect, dom: Any, event_id: int, cb: Any, opaque: Any) -> int:
        registered[event_id] = cb
        return original(conn, dom, event_id, cb, opaque)

    monkeypatch.setattr(libvirt.virConnect, "domainEventRegisterAny", record)
    session = HostSession(node([DomainSpec("vm", max_kib=GIB)]))
    woken: list[bool] = []
    session.on_event = lambda: woken.append(True)
    session.open()
    try:
        callback = registered[libvirt.VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE]
        dom = session.connection().lookupByName("vm")
        callback(session.connection(), dom, "virtiomem0", 448 * 1024, None)
        assert woken == [True]
    finally:
        session.close()
