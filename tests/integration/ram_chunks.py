#!/usr/bin/env python3
"""
Integration test: the RAM store's swappable chunks (backend/ram_chunks.h).
A plain write of one whole aligned 128 KiB chunk is received into a spare
chunk and swapped into the store; reads within a chunk are sent from it
holding a reference, reads across chunks are copied. This checks, on the
real daemon:

- three connections (one with digests) writing whole chunks of
  LBA-tagged blocks to the same chunks while reading them back whole,
  within a chunk and across chunk boundaries: every block read is a
  complete block of its own LBA, from a write that was made to it (old or
  new, never another LBA's, never a mix within a block); on a namespace
  with spares for the load and on one whose two spares run out (writes
  then fall back to copying);
- a reset in the middle of a whole-chunk write, and an H2CData digest
  error in one, leave the old data, and spares given back by them serve
  later writes;
- Compare, Write Zeroes and Deallocate on swapped chunks.

    ram_chunks.py BUILD/daemon/nvmfd

Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd.
"""
import os, struct, sys, tempfile, threading, random
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, free_ports, nvmfd_arg  # noqa: E402
from nvmftcp import (R2T, Daemon, admin_up, io_up, ns, nvmfd_ini, parse_r2t,  # noqa: E402
                     rw_cdw, subsystem)

NVMFD = nvmfd_arg()

PORT, DPORT = free_ports(2)
SUB = b"nqn.2026-11.io.nvmfd:ram-chunks"
BS = 4096
CHUNK = 128 << 10
CB = CHUNK // BS            # blocks per chunk
NCHUNKS = 8                 # the chunks the load shares
OPS = 120                   # commands per connection


def block(lba, gen):
    return struct.pack("<QQ", lba, gen) * (BS // 16)


def chunk_data(first_lba, gen):
    return b"".join(block(first_lba + i, gen) for i in range(CB))


def bad_blocks(data, first_lba, gens):
    """Blocks of data (starting at first_lba) that are not a whole block of their LBA
    with a generation that was written there (0: never written, reads as zeroes)."""
    bad = []
    for i in range(len(data) // BS):
        b = data[i * BS:(i + 1) * BS]
        lba = first_lba + i
        if b == b"\0" * BS:
            continue
        got_lba, gen = struct.unpack_from("<QQ", b, 0)
        if got_lba != lba or gen not in gens or b != block(lba, gen):
            bad.append((lba, got_lba, gen))
    return bad


def ctrl():
    return admin_up(PORT, SUB, queues=8)


class Load(threading.Thread):
    """One connection: whole-chunk writes and reads of the shared chunks, pipelined."""

    def __init__(self, a, qid, nsid, gens, lock, dd=False):
        super().__init__(daemon=True)
        self.a, self.qid, self.nsid, self.gens, self.lock, self.dd = a, qid, nsid, gens, lock, dd
        self.errors = []
        self.reads = 0

    def run(self):
        try:
            q = io_up(PORT, self.a, qid=self.qid, hd=self.dd, dd=self.dd)
            rnd = random.Random(self.qid * 31 + self.nsid)
            for n in range(0, OPS, 8):
                cmds = []
                for k in range(8):
                    c = rnd.randrange(NCHUNKS)
                    kind = rnd.randrange(4)
                    if kind == 0:
                        gen = (self.qid << 24) | (n + k + 1)
                        with self.lock:
                            self.gens.add(gen)
                        cid = q.start_write(c * CB, chunk_data(c * CB, gen), nsid=self.nsid,
                                            bs=BS)
                        cmds.append((cid, None, 0))
                    elif kind == 1:    # the whole chunk
                        cmds.append((q.start_read(c * CB, CB, nsid=self.nsid, bs=BS), c * CB, CB))
                    elif kind == 2:    # within the chunk
                        lba = c * CB + rnd.randrange(CB - 4)
                        cmds.append((q.start_read(lba, 4, nsid=self.nsid, bs=BS), lba, 4))
                    else:              # across the chunk boundary (copied)
                        lba = c * CB + CB // 2
                        if lba + CB > NCHUNKS * CB:
                            lba -= CB
                        cmds.append((q.start_read(lba, CB, nsid=self.nsid, bs=BS), lba, CB))
                for cid, lba, nlb in cmds:
                    st, _, data = q.wait(cid)
                    if st != 0:
                        self.errors.append("cid %d: status %#x" % (cid, st))
                        continue
                    if lba is None:
                        continue
                    self.reads += 1
                    with self.lock:
                        gens = set(self.gens)
                    bad = bad_blocks(data, lba, gens)
                    if len(data) != nlb * BS or bad:
                        self.errors.append("read %d blocks at %d: %d bytes, bad %r" % (
                            nlb, lba, len(data), bad[:3]))
            q.close()
        except Exception as e:
            self.errors.append("exception: %r" % e)


def load_case(nsid, what, whole_writes):
    """whole_writes: every chunk must end holding one write whole. True where the
    spares never run out (3 connections x 8 commands < 32 spares): swapped writes
    never mix; two copied writes of one chunk on two workers may interleave, as on
    any device."""
    a = ctrl()
    gens, lock = set(), threading.Lock()
    loads = [Load(a, qid, nsid, gens, lock, dd=qid == 3) for qid in range(1, 4)]
    for t in loads:
        t.start()
    for t in loads:
        t.join(120)
    errors = [e for t in loads for e in t.errors] + \
        ["connection %d did not finish" % t.qid for t in loads if t.is_alive()]
    reads = sum(t.reads for t in loads)
    # afterwards every chunk holds one whole write: the same generation in all its blocks
    q = io_up(PORT, a, qid=5)
    whole = True
    for c in range(NCHUNKS):
        st, data = q.read(c * CB, CB, nsid=nsid, bs=BS)
        g = {data[i * BS + 8:i * BS + 16] for i in range(CB)}
        whole &= st == 0 and not bad_blocks(data, c * CB, gens) and (
            len(g) == 1 or not whole_writes)
    q.close()
    a.close()
    check("%s: 3 connections of whole-chunk writes and reads, %d reads: every block "
          "its own LBA's" % (what, reads), not errors and reads > 0, errors[:5])
    check("%s: every chunk then holds %s" % (
        what, "one whole write" if whole_writes else "its own LBAs' blocks"), whole)


def r2t_for(q, cid, nsid, slba, nbytes):
    q.cmd(1, cid, nsid=nsid, cdw=rw_cdw(slba, nbytes // BS), sgl_len=nbytes)
    t, fl, hdr, _ = q.rx()
    assert t == R2T, t
    _, ttag, r2to, r2tl = parse_r2t(hdr)
    return ttag, r2tl


def compare(q, nsid, slba, data):
    """The status of a Compare of data (sent after R2T) with the blocks at slba."""
    cid = q.cmd(0x05, nsid=nsid, cdw=rw_cdw(slba, len(data) // BS), sgl_len=len(data))
    q.pending[cid] = data
    return q.wait(cid)[0]


def failures(nsid):
    a = ctrl()
    q = io_up(PORT, a, qid=1)
    lba = 20 * CB
    old = chunk_data(lba, 7)
    ok = q.write(lba, old, nsid=nsid, bs=BS) == 0
    # more resets than the namespace has spares: each must give its spare back
    for i in range(6):
        r = io_up(PORT, a, qid=2 + i)
        ttag, r2tl = r2t_for(r, 9, nsid, lba, CHUNK)
        ok &= r2tl == CHUNK
        new = chunk_data(lba, 100 + i)
        r.send(r.h2c_pdu(9, ttag, 0, new[:CHUNK // 2], last=False))
        r.reset()
        st, got = q.read(lba, CB, nsid=nsid, bs=BS)
        ok &= st == 0 and got == old
    check("ns %d: a reset in the middle of a whole-chunk write leaves the old data" % nsid, ok)

    d = io_up(PORT, a, qid=8, hd=True, dd=True)
    ttag, _ = r2t_for(d, 10, nsid, lba, CHUNK)
    new = chunk_data(lba, 200)
    d.send(d.h2c_pdu(10, ttag, 0, new[:CHUNK // 2], last=False))
    d.send(d.h2c_pdu(10, ttag, CHUNK // 2, new[CHUNK // 2:], last=True, bad_ddgst=True))
    st = d.status()
    st2, got = q.read(lba, CB, nsid=nsid, bs=BS)
    check("ns %d: an H2CData digest error in a whole-chunk write: Transient Transport "
          "Error, the old data kept" % nsid, st == 0x22 and st2 == 0 and got == old, (st, st2))
    d.close()

    # the spares came back: whole-chunk writes still go through, the data lands
    ok = True
    for i in range(4):
        data = chunk_data(lba, 300 + i)
        ok &= q.write(lba, data, nsid=nsid, bs=BS) == 0
        st, got = q.read(lba, CB, nsid=nsid, bs=BS)
        ok &= st == 0 and got == data
    check("ns %d: whole-chunk writes afterwards land" % nsid, ok)

    # Compare (in place, through the table), Write Zeroes and Deallocate on swapped chunks
    data = chunk_data(lba, 400)
    q.write(lba, data, nsid=nsid, bs=BS)
    q.write(lba + CB, chunk_data(lba + CB, 401), nsid=nsid, bs=BS)
    both = data + chunk_data(lba + CB, 401)
    st_same = compare(q, nsid, lba + CB - 2, both[CHUNK - 2 * BS:CHUNK + 2 * BS])
    wrong = bytearray(both[CHUNK - 2 * BS:CHUNK + 2 * BS])
    wrong[-1] ^= 1
    st_diff = compare(q, nsid, lba + CB - 2, bytes(wrong)) & 0x7ff
    check("ns %d: Compare across two swapped chunks: equal, then Compare Failure" % nsid,
          st_same == 0 and st_diff == 0x285, (st_same, st_diff))
    cid = q.cmd(0x08, nsid=nsid, cdw=rw_cdw(lba + 4, CB))    # Write Zeroes
    st1 = q.wait(cid)[0]
    dsm = struct.pack("<IIQ", 0, CB // 2, lba + CB + CB // 2)  # Deallocate 16 blocks
    cid = q.cmd(0x09, nsid=nsid, cdw=(0, 4), icd=dsm)
    st2 = q.wait(cid)[0]
    st3, got = q.read(lba, 2 * CB, nsid=nsid, bs=BS)
    want = both[:4 * BS] + b"\0" * CHUNK + both[CHUNK + 4 * BS:CHUNK + CHUNK // 2] + \
        b"\0" * (CHUNK // 2)
    check("ns %d: Write Zeroes and Deallocate across swapped chunks" % nsid,
          st1 == 0 and st2 == 0 and st3 == 0 and got == want, (st1, st2, st3))
    q.close()
    a.close()


work = tempfile.mkdtemp(prefix="nvmfd-ram-chunks.")
daemon = Daemon(NVMFD, work, nvmfd_ini(
    PORT, DPORT, work,
    subsystem(SUB, ns(1, "ram:64M", block_size=BS),                # 32 spare chunks
              ns(2, "ram:4M", block_size=BS, prealloc="no")),      # 2: they run out
    workers=3), PORT)

try:
    load_case(1, "ns 1 (32 spares)", True)
    load_case(2, "ns 2 (2 spares, copies when they run out)", False)
    failures(1)
    failures(2)
except Exception as e:
    check("no unexpected exception", False, repr(e))
daemon.finish(10)
