#!/usr/bin/env python3
"""
Integration test: Dataset Management deallocate and Write Zeroes free space
and never write (NVM Command Set 1.0 3.2.3, 3.2.8), on a sparse file and on
a loop device over a sparse file.

    discard.py BUILD/daemon/nvmfd

Namespace 1: a sparse file (512-byte blocks). Namespace 2: a loop device
over another sparse file (needs root and losetup: its checks are skipped
with the reason otherwise). Raw commands over NVMe/TCP (tests/lib/nvmftcp.py):

- Identify Namespace: DLFEAT 09h on the file (deallocated blocks read as
  zeroes, Write Zeroes takes DEAC), 08h on the device (a discard's result
  is the device's); NSFEAT OPTPERF with NPDG from the file system's block.
  Identify CNS 06h (the NVM command set's controller data): DMRL 0 (all of
  NR's 256 ranges), DMRSL the loop device's discard_max_bytes in blocks.
- 4 MiB written to each, flushed; a DSM deallocate of two 1 MiB ranges:
  the backing file's allocated bytes (st_blocks) shrink by 2 MiB, the loop
  device's write sectors (/sys/block/loopN/stat) do not move and its
  discard sectors grow by 2 MiB; the file namespace reads zeroes there.
- Write Zeroes with DEAC: zeroes, and 256 KiB fewer allocated bytes; with
  FUA and without DEAC: zeroes, the allocation kept.
- The daemon's log names how each namespace deallocates.

Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd.
"""
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, done, free_ports, nvmfd_arg, skipcase  # noqa: E402
from nvmftcp import Daemon, admin_up, io_up, ns, nvmfd_ini, rw_cdw, subsystem  # noqa: E402

NVMFD = nvmfd_arg()
SUB = "nqn.2026-11.io.nvmfd:it-discard"
MIB = 1 << 20
SIZE = 64 * MIB
BS = 512

work = tempfile.mkdtemp(prefix="nvmfd-discard.", dir="/var/tmp")
files = [os.path.join(work, "file.img"), os.path.join(work, "loop.img")]
for p in files:
    with open(p, "wb") as f:
        f.truncate(SIZE)


def allocated(path):
    return os.stat(path).st_blocks * 512


def attach(path):
    """A loop device over path, or (None, why)."""
    if os.geteuid() != 0:
        return None, "loop devices need root (uid %d)" % os.geteuid()
    try:
        r = subprocess.run(["losetup", "-f", "--show", path], capture_output=True, text=True,
                           timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "losetup: %s" % e
    if r.returncode != 0 or not r.stdout.strip():
        return None, "losetup -f --show does not work here: %s" % r.stderr.strip()
    return r.stdout.strip(), ""


def disk_stat(dev, field):
    """/sys/block/loopN/stat field (Documentation/block/stat.rst): 6 sectors written,
    13 sectors discarded."""
    with open("/sys/block/%s/stat" % os.path.basename(dev)) as f:
        return int(f.read().split()[field])


def queue(dev, name):
    with open("/sys/block/%s/queue/%s" % (os.path.basename(dev), name)) as f:
        return int(f.read())


loop, why = attach(files[1])
nss = [ns(1, files[0], block_size=BS)]
if loop:
    nss.append(ns(2, loop))
port, dport = free_ports(2)
d = None
try:
    d = Daemon(NVMFD, work, nvmfd_ini(port, dport, work, subsystem(SUB, *nss)), port)
    a = admin_up(port, SUB, queues=1)
    q = io_up(port, a)

    def identify_ns(nsid):
        st, data = a.identify(0, nsid)
        nsfeat, dlfeat = data[24], data[33]
        npwg, npwa, npdg, npda, nows = struct.unpack_from("<5H", data, 64)
        return st, nsfeat, dlfeat, npdg

    st, nsfeat, dlfeat, npdg = identify_ns(1)
    blksize = os.stat(files[0]).st_blksize
    check("Identify Namespace 1 (a sparse file): DLFEAT 09h (deallocated blocks read as "
          "zeroes, Write Zeroes takes DEAC), OPTPERF, NPDG = %d blocks of the file "
          "system's %d bytes" % (blksize // BS, blksize),
          st == 0 and dlfeat == 0x09 and nsfeat & 0x10 and npdg + 1 == blksize // BS,
          "status %#x DLFEAT %#x NSFEAT %#x NPDG %d" % (st, dlfeat, nsfeat, npdg))
    if loop:
        st, nsfeat, dlfeat, npdg = identify_ns(2)
        check("Identify Namespace 2 (%s): DLFEAT 08h (what a discarded block reads is the "
              "device's; Write Zeroes takes DEAC)" % loop, st == 0 and dlfeat == 0x08,
              "status %#x DLFEAT %#x" % (st, dlfeat))
    st, data = a.identify(6, 0)
    dmrl, dmrsl, dmsl = struct.unpack_from("<xxxBIQ", data, 0)
    want = min(queue(loop, "discard_max_bytes") // BS, 0xFFFFFFFF) if loop else 0xFFFFFFFF
    check("Identify CNS 06h (NVM command set controller data): DMRL 0 (NR's 256 ranges), "
          "DMRSL %d blocks (the devices' largest discard), DMSL 0" % want,
          st == 0 and dmrl == 0 and dmrsl == want and dmsl == 0,
          "status %#x DMRL %d DMRSL %d DMSL %d" % (st, dmrl, dmrsl, dmsl))

    text = d.text()
    check("the log says namespace 1 deallocates by hole punching",
          "deallocate: hole punching" in text, text[-600:])
    if loop:
        line = [l for l in text.splitlines() if "namespace 2 of" in l]
        check("the log says how namespace 2 (%s) deallocates: %s" %
              (loop, line[0].split("deallocate: ")[-1] if line else "?"),
              line and ("deallocate: discard" in line[0] or
                        "deallocate: zeroing with unmap" in line[0]), line)

    data = os.urandom(4 * MIB)

    def fill(nsid):
        for off in range(0, len(data), 128 * 1024):
            st = q.write((8 * MIB + off) // BS, data[off:off + 128 * 1024], nsid=nsid)
            if st != 0:
                return st
        return q.wait(q.cmd(0x00, nsid=nsid))[0]

    def read(nsid, off, length):
        out = b""
        for o in range(off, off + length, 128 * 1024):  # within MDTS
            n = min(128 * 1024, off + length - o)
            st, got = q.read(o // BS, n // BS, nsid=nsid)
            if st != 0:
                return None
            out += got
        return out

    def dsm(nsid, ranges):
        icd = b"".join(struct.pack("<IIQ", 0, ln // BS, off // BS) for off, ln in ranges)
        return q.wait(q.cmd(0x09, nsid=nsid, cdw=(len(ranges) - 1, 0x4), icd=icd))[0]

    def write_zeroes(nsid, off, length, deac=False, fua=False):
        cdw = list(rw_cdw(off // BS, length // BS, fua))
        if deac:
            cdw[2] |= 1 << 25
        return q.wait(q.cmd(0x08, nsid=nsid, cdw=cdw))[0]

    zero = bytes(MIB)
    ranges = [(8 * MIB, MIB), (10 * MIB, MIB)]
    for nsid, img in ((1, files[0]), (2, files[1])):
        dev = loop if nsid == 2 else None
        if nsid == 2 and not loop:
            skipcase("namespace 2: deallocate and Write Zeroes on a loop device", why)
            continue
        what = "ns %d (%s)" % (nsid, dev or "sparse file")
        st = fill(nsid)
        check("%s: 4 MiB written and flushed" % what, st == 0, "status %#x" % st)
        before = allocated(img)
        w0 = disk_stat(dev, 6) if dev else 0
        d0 = disk_stat(dev, 13) if dev else 0
        st = dsm(nsid, ranges)
        after = allocated(img)
        check("%s: DSM deallocate of two 1 MiB ranges succeeds; the backing file has 2 MiB "
              "fewer allocated bytes (%d -> %d)" % (what, before, after),
              st == 0 and before - after == 2 * MIB, "status %#x" % st)
        if dev:
            w1, d1 = disk_stat(dev, 6), disk_stat(dev, 13)
            check("%s: nothing written (sectors written %d -> %d), 2 MiB discarded "
                  "(sectors discarded %d -> %d)" % (what, w0, w1, d0, d1),
                  w1 == w0 and (d1 - d0 == 2 * MIB // 512 or "zeroing" in text),
                  "the device wrote or did not discard")
        else:
            got = read(nsid, 8 * MIB, 4 * MIB)
            check("%s: the deallocated ranges read as zeroes (DLFEAT 001b), the rest as "
                  "written" % what,
                  got == zero + data[MIB:2 * MIB] + zero + data[3 * MIB:],
                  "read failed" if got is None else "data differs")
        before = allocated(img)
        st = write_zeroes(nsid, 12 * MIB - 256 * 1024, 256 * 1024, deac=True)
        got = read(nsid, 12 * MIB - 256 * 1024, 256 * 1024)
        after = allocated(img)
        check("%s: Write Zeroes with DEAC of 256 KiB: zeroes, and 256 KiB fewer allocated "
              "bytes (%d -> %d)" % (what, before, after),
              st == 0 and got == bytes(256 * 1024) and before - after == 256 * 1024,
              "status %#x" % st)
        before = allocated(img)
        st = write_zeroes(nsid, 9 * MIB, 128 * 1024, fua=True)
        got = read(nsid, 9 * MIB, 128 * 1024)
        check("%s: Write Zeroes with FUA, without DEAC: zeroes, the allocation kept" % what,
              st == 0 and got == bytes(128 * 1024) and allocated(img) == before,
              "status %#x, %d -> %d" % (st, before, allocated(img)))
    # the volatile write cache off: a Write Zeroes is made durable (an fdatasync) and succeeds
    st = a.set_features(0x06, 0)[0]
    st2 = write_zeroes(1, 16 * MIB, 4096)
    check("with the volatile write cache off (Set Features 06h), Write Zeroes succeeds",
          st == 0 and st2 == 0, "set features %#x, write zeroes %#x" % (st, st2))
    q.close()
    a.close()
    check("no sanitizer report", not d.sanitizer_lines(), d.sanitizer_lines())
except Exception as e:  # noqa: BLE001 - any failure is one failed check with its reason
    check("the test ran to its end", False, "%s: %s" % (type(e).__name__, e))
finally:
    if d is not None:
        d.stop()
    if loop:
        subprocess.run(["losetup", "-d", loop], capture_output=True)
done(work)
