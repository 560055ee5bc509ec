#!/usr/bin/env python3
"""
Integration test: what real hosts other than Linux's send, over the wire
(issue 13), each check naming its specification section:

  - Connect with an empty or non-conforming HOSTNQN (SPDK's default):
    accepted by a subsystem open to any host, refused with Connect Invalid
    Parameters at HOSTNQN (IATTR 1, IPO 512) by one with an allow-list
    (NVMe-oF 1.1 3.3, Figure 21);
  - the mandatory features spdk_nvme_identify and nvme-cli read (Base 2.0
    5.27.1: 01h, 02h, 04h, 05h, 08h, 81h);
  - reserved fields left alone: byte 01 of a Fabrics command and bytes
    05-39 of Property Get (oF 1.1 Figure 10, 3.5), a zeroed DPTR on Keep
    Alive and Flush (no data: no SGL to check);
  - a PDO that is not a multiple of 4 with CPDA 0 (NVMe/TCP 1.0 3.6.2.2-3):
    C2HTermReq Invalid PDU Header Field at PDO (FEI 3);
  - TCP keepalive on the daemon's sockets (nvmfd.ini(5)), and an I/O queue of
    a KATO 0 controller closed when its admin queue's connection goes.

    compat.py BUILD/daemon/nvmfd

Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd.
"""
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, done, free_ports, nvmfd_arg  # noqa: E402
from nvmftcp import (CC_ENABLE, FES_HDR, HOSTID, HOSTNQN, Closed, Daemon, Queue,  # noqa: E402
                     admin_up, expect_closed, expect_term, io_up, ns, nvmfd_ini, subsystem)

NVMFD = nvmfd_arg()
PORT, DPORT = free_ports(2)
OPEN = b"nqn.2026-11.io.nvmfd:compat-open"
CLOSED = b"nqn.2026-11.io.nvmfd:compat-closed"
SC_CONNECT_PARAM = 0x182


def st_of(st):
    return None if st is None else st & 0x7ff


def connect_raw(sub, host):
    q = Queue(PORT)
    q.icreq()
    st, dw0 = q.connect(sub, host)
    return q, st_of(st), dw0


def tests(d):
    # ---- oF 1.1 3.3: HOSTNQN as real hosts send it ----
    for host, what in ((b"", "empty"), (b"spdk-host", "not an NQN")):
        q, st, dw0 = connect_raw(OPEN, host)
        check("oF 3.3: Connect with a HOSTNQN %s to a subsystem open to any host: accepted"
              % what, st == 0, "status %s" % st)
        if st == 0:
            st2 = q.prop_set(0x14, CC_ENABLE)
            sti, data = q.identify(0x01)
            check("... and the controller works (CC.EN, Identify)", st2 == 0 and sti == 0,
                  "%s %s" % (st2, sti))
        q.close()
        q, st, dw0 = connect_raw(CLOSED, host)
        check("oF 3.3: the same to a subsystem with an allow-list: Connect Invalid Parameters,"
              " IATTR 1, IPO 512 (HOSTNQN)", st == SC_CONNECT_PARAM and dw0 == (1 << 16 | 512),
              "status %s dw0 %#x" % (st, dw0 if dw0 is not None else -1))
        q.close()
    time.sleep(0.3)
    log = d.text()
    check("the lax host's controller is logged as a warning that names it",
          "not a valid host NQN" in log and "HOSTNQN is empty" in log, log[-600:])

    # ---- Base 2.0 5.27.1: the mandatory features ----
    a = admin_up(PORT, OPEN, kato=30000)
    for fid, name in ((0x01, "Arbitration"), (0x02, "Power Management"),
                      (0x04, "Temperature Threshold"), (0x05, "Error Recovery"),
                      (0x08, "Interrupt Coalescing")):
        st, dw0, _ = a.wait(a.cmd(0x0A, cdw=(fid, 0)))
        check("Base 5.27.1: Get Features %02Xh (%s): success" % (fid, name), st == 0,
              "status %#x" % st)
    st, dw0 = a.set_features(0x02, 1)
    check("Base 5.27.1.2: Set Features Power Management PS 1 (NPSS 0): Invalid Field",
          st_of(st) == 0x02, st)
    st, dw0, data = a.wait(a.cmd(0x0A, cdw=(0x81, 1), sgl_len=16))
    check("Base 5.27.1.26: Get Features 81h (EXHID 1): Connect's 128-bit HOSTID",
          st == 0 and data == HOSTID, "status %#x data %r" % (st, data))
    # what nvme-cli 2.3 and 2.13 send for "nvme get-feature -f 0x81": EXHID 0,
    # 8 bytes (libnvme's nvme_get_feature_length). A Fabrics controller has no
    # 64-bit Host Identifier (oF 1.1 3.3: Connect's HOSTID is 128 bits).
    st, dw0, data = a.wait(a.cmd(0x0A, cdw=(0x81, 0), sgl_len=8))
    check("Base 5.27.1.26: Get Features 81h with EXHID 0 (a 64-bit identifier, 8 bytes): Invalid Field",
          st_of(st) == 0x02, "status %#x" % st)
    st, data = a.identify(0x08, nsid=1)
    check("Base Figure 273: Identify CNS 08h: namespace ready (NSTAT)",
          st == 0 and data[14] == 1, st)

    # ---- reserved fields (oF 1.1 Figure 10, 3.5; no data, no SGL) ----
    tail = struct.pack("<B3xI", 0, 0x08)  # Property Get of VS, 4 bytes
    cid = a.cmd(0x7F, fctype=4, flags=0x00, sgl_type=0x00, tail=tail)
    st, dw0, _ = a.wait(cid)
    check("oF Figure 10: Property Get with byte 01 (PSDT) 0 and a zeroed SGL: success",
          st == 0 and dw0 == 0x10400, "status %#x dw0 %#x" % (st, dw0))
    raw = bytearray(64)
    struct.pack_into("<BBHB", raw, 0, 0x7F, 0xC3, 0x4242, 4)
    raw[5:24] = b"\xa5" * 19  # reserved bytes 05-23
    raw[24:40] = b"\x5a" * 16  # and the SGL: bytes 05-39 of Property Get are reserved
    raw[40] = 0
    struct.pack_into("<I", raw, 44, 0x08)
    a.send(a.pdu(4, 0, bytes(raw)))
    st, dw0, _ = a.wait(0x4242)
    check("oF 3.5: Property Get with bytes 01 and 05-39 all set: success", st == 0 and
          dw0 == 0x10400, "status %#x" % st)
    st, _, _ = a.wait(a.cmd(0x18, sgl_type=0x00))
    check("Keep Alive with a zeroed DPTR (no data): success", st == 0, "status %#x" % st)
    q = io_up(PORT, a, qid=1)
    st, _, _ = q.wait(q.cmd(0x00, nsid=1, sgl_type=0x00))
    check("Flush with a zeroed DPTR (no data): success", st == 0, "status %#x" % st)
    st, _, _ = q.wait(q.cmd(0x00, nsid=1, sgl_type=0x01, sgl_len=512, icd=b"\0" * 512))
    check("Flush that brings in-capsule data: Data SGL Length Invalid", st_of(st) == 0x0f,
          "status %#x" % st)
    st, _, _ = q.wait(q.cmd(0x02, nsid=1, cdw=(0, 0, 0), sgl_type=0x00, sgl_len=512))
    check("a Read's SGL is still checked: SGL Descriptor Type Invalid", st_of(st) == 0x11,
          "status %#x" % st)

    # ---- NVMe/TCP 3.6.2.2-3: PDO with CPDA 0 ----
    # a 512-byte write whose data starts at 74 (a multiple of 2, not of 4)
    sq = bytearray(64)
    struct.pack_into("<BBHI", sq, 0, 0x01, 0x40, 9, 1)
    struct.pack_into("<QI", sq, 24, 0, 512)
    sq[39] = 0x01
    hdr = struct.pack("<BBBBI", 4, 0, 72, 74, 72 + 2 + 512)
    q.send(hdr + bytes(sq) + b"\0\0" + b"\0" * 512)
    ok, why = expect_term(q, FES_HDR, 3)
    check("TCP 3.6.2.2-3: CapsuleCmd PDO 74 with CPDA 0: TermReq at PDO (FEI 3)", ok, why)
    q.close()

    # ---- TCP keepalive (nvmfd.ini(5)); KATO 0: the I/O queue goes with the admin queue ----
    b = admin_up(PORT, OPEN, kato=0)
    bq = io_up(PORT, b, qid=1)
    port_of = bq.s.getsockname()[1]
    for _ in range(30):  # a retransmission timer shows instead while data is unacked
        ss = subprocess.run(["ss", "-tnoH", "state", "established",
                             "( dport = :%d )" % port_of], capture_output=True, text=True).stdout
        if "keepalive" in ss:
            break
        time.sleep(0.1)
    check("the daemon's socket of an I/O queue has a keepalive timer (ss -o)",
          "keepalive" in ss, ss.strip())
    b.close()
    ok, why = expect_closed(bq, timeout=5)
    check("KATO 0: the I/O queue is closed when its admin queue's connection closes", ok, why)
    bq.close()
    a.close()


work = tempfile.mkdtemp(prefix="nvmfd-compat.")
try:
    d = Daemon(NVMFD, work, nvmfd_ini(
        PORT, DPORT, work,
        subsystem(OPEN, ns(1, "ram:16M", block_size=512)),
        subsystem(CLOSED, ns(1, "ram:16M", block_size=512), allow_host=HOSTNQN.decode()),
        log_level="info", tcp_keepalive_idle="5s", tcp_keepalive_interval="2s",
        tcp_keepalive_count=3), PORT)
except Closed as e:
    check("nvmfd starts", False, str(e))
    done(work)
try:
    tests(d)
except (Closed, OSError) as e:
    check("no unexpected error", False, repr(e))
rc = d.stop()
check("SIGTERM: exit 0", rc == 0, "exit %s" % rc)
bad = d.sanitizer_lines()
check("no sanitizer report", not bad, " | ".join(bad[:5]))
done(work)
