#!/usr/bin/env python3
"""
Integration test: a read's data digest covers the bytes that were sent,
even when a write to the same blocks lands while the read's data waits in
a full socket (NVMe/TCP 3.6.2.5: DDGST is the CRC of the PDU's data).

A RAM namespace is the case to watch: its reads are sent from the store,
and a write that lands before the kernel has taken the bytes must not
change what goes out under a digest computed over other bytes (a
transport error to the host: the Linux host resets the whole association
on it), nor show a block half written. The store copies a chunk that
reads are sent from before a write changes it (backend/ram_chunks.h), so
reads executed before the write go out with the blocks they were
executed with, while the write is already visible to later reads.

The host asks for a 64 KiB receive buffer and stops reading, queues many
128 KiB reads of the same blocks with header and data digests, then
overwrites the first blocks (two rounds, copying and zero-copy sends) and
reads them on another queue while the first one's reads are still
queued; a third round on a store too small for spare chunks, where the
write waits for the reads instead. It then reads everything and checks every digest and that each
read returned the old or the new data.

    ddgst_overwrite.py BUILD/daemon/nvmfd

Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd.
"""
import os, re, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, done, free_ports, nvmfd_arg, results  # noqa: E402
from nvmftcp import Daemon, admin_up, io_up, ns, nvmfd_ini, subsystem  # noqa: E402

NVMFD = nvmfd_arg()

SUBNQN = b"nqn.2026-11.io.nvmfd:ddgst-overwrite"
HOSTNQN = b"nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-777777777777"
BS = 512
READ_BLOCKS = 256          # 128 KiB per read
# 12 MiB of reads queued: more than the daemon's send buffer can hold
# (tcp_wmem's maximum, 4 MiB by default) and our 64 KiB receive buffer
READS = 96
NEW_BLOCKS = 16            # 8 KiB overwritten, in the capsule


def one_round(port, a, qid, old, new, label, nsid=1):
    """nsid 2 has no spare chunk to copy into: the write waits for the reads."""
    q = io_up(port, a, qid, hd=True, dd=True, rcvbuf=65536)
    side = io_up(port, a, qid + 3)
    assert q.write(0, old, nsid=nsid) == 0
    reads = [q.start_read(0, READ_BLOCKS, nsid=nsid) for _ in range(READS)]
    time.sleep(0.5)   # the target fills its socket and stalls on the rest
    wcid = q.start_write(0, new[:NEW_BLOCKS * BS], nsid=nsid)
    time.sleep(0.3)   # ... and executes the write meanwhile
    st_side, seen = side.read(0, NEW_BLOCKS, nsid=nsid)
    side.close()
    done = {cid: q.wait(cid) for cid in reads + [wcid]}  # checks every digest on the way
    got = {cid: done[cid][2] for cid in reads}
    new_all = new[:NEW_BLOCKS * BS] + old[NEW_BLOCKS * BS:]
    check("%s: the C2HData PDUs of %d overlapping 128 KiB reads carry digests of the "
          "bytes sent" % (label, READS), q.bad_digests == 0, "%d bad digests" % q.bad_digests)
    check("%s: the write and every read succeed" % label,
          all(done[c][0] == 0 for c in reads + [wcid]))
    olds = sum(got[c] == old for c in reads)
    news = sum(got[c] == new_all for c in reads)
    check("%s: each read returned the old or the new blocks whole (%d old, %d new)"
          % (label, olds, news), olds + news == READS)
    # the case under test: the write landed while reads were still queued
    if nsid == 1:
        check("%s: the write landed while reads were queued behind the full socket: "
              "another queue reads its blocks" % label,
              st_side == 0 and seen == new[:NEW_BLOCKS * BS],
              "tcp_wmem %s" % open("/proc/sys/net/ipv4/tcp_wmem").read().strip())
    else:
        check("%s: no spare chunk: the write waits for the reads queued behind the full "
              "socket, another queue still reads the old blocks" % label,
              st_side == 0 and seen == old[:NEW_BLOCKS * BS])
    check("%s: the reads executed before it were sent with the blocks they were executed "
          "with (%d of %d old)" % (label, olds, READS), olds == READS)
    st, data = q.read(0, READ_BLOCKS, nsid=nsid)
    check("%s: a read after the write returns the new blocks" % label,
          st == 0 and data == new_all)
    q.close()


def main():
    port, dport = free_ports(2)
    work = tempfile.mkdtemp(prefix="nvmfd-ddgst-overwrite.")
    zc = sys.argv[2:3] == ["zc"]
    env = {"NVMFD_ZC_THRESHOLD": "1"} if zc else None
    d = Daemon(NVMFD, work, nvmfd_ini(port, dport, work,
                                      subsystem(SUBNQN, ns(1, "ram:16M", block_size=BS),
                                                ns(2, "ram:1M", block_size=BS)),
                                      log_level="debug"),
               port, env=env)
    try:
        a = admin_up(port, SUBNQN, HOSTNQN, queues=8)
        old = os.urandom(READ_BLOCKS * BS)
        for r in range(2):
            one_round(port, a, r + 1, old, os.urandom(READ_BLOCKS * BS),
                      "%s, round %d" % ("zero-copy sends" if zc else "copying sends", r + 1))
            old = os.urandom(READ_BLOCKS * BS)
        one_round(port, a, 3, old, os.urandom(READ_BLOCKS * BS),
                  "%s, a store without spare chunks" % ("zero-copy sends" if zc else "copying sends"),
                  nsid=2)
        a.close()
    except Exception as e:  # a hung or closed connection where none was expected
        check("no unexpected exception", False, repr(e))
    d.check_stop()
    if zc:
        check("zero-copy sends were made",
              re.search(r"[1-9][0-9]* zero-copy sends", d.text()) is not None)
    if not all(results):
        d.print_tail(40)
    done(work)


main()
