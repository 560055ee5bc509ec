#!/usr/bin/env python3
"""
nvmfd against SPDK's nvmf_tgt in the same run, with the same client.

Both targets serve a 1 GiB RAM store with 4 KiB blocks on CPU 0 (nvmfd: one
worker, busy_poll 50us, ram:1G; SPDK: nvmf_tgt -m 0x1 with a Malloc bdev);
SPDK's spdk_nvme_perf, pinned to CPU 1, drives both. Rounds alternate the
order of the targets (SPDK first, then nvmfd first, ...), each target runs
every row of the matrix in its turn, and only one target runs at a time
(an idle SPDK reactor still spins its core). Target CPU is utime + stime
from /proc/PID/stat over each measured run. With BUSY_POLL_OFF=1 (the
default) nvmfd runs each round a second time with busy_poll = 0: its CPU
is then the work the load needs (an SPDK reactor and nvmfd's busy-poll
both spin while they wait for a client that is the limit, so with them
"per target core" only repeats the IOPS ratio). iperf3 (one stream, CPU 0 ->
CPU 1) is sampled at the start and at the end, so the window's loopback
ceiling is known. Not a test: it never fails on a slow machine.

    tests/bench/spdk_side_by_side.py NVMFD_BINARY OUTDIR

Both CPUs (SCALE_ROWS, default "rr4k-qd32 rw4k-qd32"; "none" skips it):
each target again on both CPUs (nvmfd workers = 2, nvmf_tgt -m 0x3) with
the client on both too (spdk_nvme_perf -c 0x3: one queue per core, each at
the row's depth), so client and target share the machine; rounds
alternate as above. It prints IOPS from one CPU to two for each target,
and the CPU each side used (target from /proc, the client from its
rusage), which says what stops the scaling.

Environment: SPDK_DIR (an SPDK build: build/bin/nvmf_tgt,
build/bin/spdk_nvme_perf, scripts/rpc.py; without it the comparison is
skipped with a note), RUNS (3), SECS (5), ROWS ("all" or row names),
SCALE_ROWS, BUSY_POLL_OFF (1), CPU_TARGET (0), CPU_CLIENT (1). Needs root for hugepages (it reserves
1024 x 2 MiB while it runs and gives back what it took).
Output: OUTDIR/spdk-DATE.md and .json, copied to OUTDIR/spdk-latest.*.
"""
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SUB_NVMFD = 'nqn.2026-11.io.nvmfd:bench'
SUB_SPDK = 'nqn.2016-06.io.spdk:bench'
HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:3a1b7c1e-5b52-4c5b-9c3e-6a5e0b9d0001'
HUGEPAGES = 1024

# name, workload, io size, queue depth, digests
MATRIX = [
    ('rr4k-qd1', 'randread', 4096, 1, False),
    ('rr4k-qd32', 'randread', 4096, 32, False),
    ('rr4k-qd128', 'randread', 4096, 128, False),
    ('rw4k-qd32', 'randwrite', 4096, 32, False),
    ('sr128k-qd16', 'read', 131072, 16, False),
    ('sw128k-qd16', 'write', 131072, 16, False),
    ('rr4k-qd32-digests', 'randread', 4096, 32, True),
    ('sw128k-qd16-digests', 'write', 131072, 16, True),
]
TOTAL = re.compile(r'^Total\s*:\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)', re.M)


def say(msg):
    print(f'spdk-bench: {msg}', file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def wait_port(port, proc, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f'target exited with status {proc.returncode}')
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f'port {port} never accepted')


class Hugepages:
    """Reserve what SPDK needs while it runs; give back what was taken."""

    def __init__(self):
        self.path = '/proc/sys/vm/nr_hugepages'
        with open(self.path) as f:
            self.before = int(f.read())
        self.mounted_here = False

    def __enter__(self):
        if self.before < HUGEPAGES:
            with open(self.path, 'w') as f:
                f.write(str(HUGEPAGES))
        with open('/proc/mounts') as f:
            if not any(line.split()[2] == 'hugetlbfs' for line in f):
                os.makedirs('/dev/hugepages', exist_ok=True)
                subprocess.run(['mount', '-t', 'hugetlbfs', '-o', 'pagesize=2M', 'nodev',
                                '/dev/hugepages'], check=True)
                self.mounted_here = True
        return self

    def __exit__(self, *exc):
        if self.before < HUGEPAGES:
            with open(self.path, 'w') as f:
                f.write(str(self.before))
        if self.mounted_here:
            subprocess.run(['umount', '/dev/hugepages'], check=False)


class Target:
    def __init__(self, kind, work, nvmfd, spdk, cpus):
        self.kind, self.work, self.nvmfd, self.spdk, self.cpus = kind, work, nvmfd, spdk, cpus
        self.proc = None
        self.port = free_port()
        self.sub = SUB_SPDK if kind == 'spdk' else SUB_NVMFD

    def start(self):
        log = open(os.path.join(self.work, f'{self.kind}.log'), 'a')
        if self.kind != 'spdk':
            bp = '0' if self.kind == 'nvmfd0' else '50us'
            ini = os.path.join(self.work, 'nvmfd.ini')
            state = os.path.join(self.work, 'state')
            os.makedirs(state, exist_ok=True)
            with open(ini, 'w') as f:
                f.write(f'[nvmfd]\nlisten = 127.0.0.1:{self.port}\ndiscovery_listen = none\n'
                        f'workers = {len(self.cpus)}\nbusy_poll = {bp}\nstate_dir = {state}\n'
                        f'[subsystem {SUB_NVMFD}]\nallow_host = any\n'
                        f'[namespace {SUB_NVMFD} 1]\npath = ram:1G\nblock_size = 4096\n')
            self.proc = subprocess.Popen(['taskset', '-c', ','.join(map(str, self.cpus)),
                                          self.nvmfd, '-c', ini],
                                         stdout=log, stderr=log)
            wait_port(self.port, self.proc)
            return
        sock = os.path.join(self.work, 'spdk.sock')
        self.proc = subprocess.Popen([os.path.join(self.spdk, 'build/bin/nvmf_tgt'),
                                      '-m', hex(sum(1 << c for c in self.cpus)), '-r', sock],
                                     stdout=log, stderr=log)
        # Debian's python3: rpc.py needs its packages, which another python on PATH may lack
        py = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
        rpc = [py, os.path.join(self.spdk, 'scripts/rpc.py'), '-s', sock]
        end = time.time() + 60
        while subprocess.run(rpc + ['spdk_get_version'], capture_output=True).returncode != 0:
            if self.proc.poll() is not None or time.time() > end:
                raise RuntimeError('nvmf_tgt did not start (see spdk.log)')
            time.sleep(0.2)
        for args in (['nvmf_create_transport', '-t', 'TCP'],
                     ['bdev_malloc_create', '-b', 'Malloc0', '1024', '4096'],
                     ['nvmf_create_subsystem', SUB_SPDK, '-a', '-s', 'SPDK00000000000001'],
                     ['nvmf_subsystem_add_ns', SUB_SPDK, 'Malloc0'],
                     ['nvmf_subsystem_add_listener', SUB_SPDK, '-t', 'tcp', '-a', '127.0.0.1',
                      '-s', str(self.port), '-f', 'ipv4']):
            subprocess.run(rpc + args, check=True, capture_output=True)

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGINT if self.kind == 'spdk' else signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def perf(spdk, target, row, secs, cpus):
    name, workload, size, qd, digests = row
    trid = (f'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:{target.port} '
            f'subnqn:{target.sub} hostnqn:{HOSTNQN}')
    cmd = [os.path.join(spdk, 'build/bin/spdk_nvme_perf'), '-q', str(qd), '-o', str(size),
           '-w', workload, '-t', str(secs), '-c', hex(sum(1 << c for c in cpus)), '-r', trid]
    if digests:
        cmd += ['-H', '-I']
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0, c0 = time.time(), cpu_seconds(target.proc.pid)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60)
    t1, c1 = time.time(), cpu_seconds(target.proc.pid)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) / (t1 - t0)
    m = TOTAL.search(out.stdout)
    if out.returncode != 0 or m is None:
        say(f'{target.kind} {name}: spdk_nvme_perf failed (status {out.returncode}): '
            f'{(out.stdout + out.stderr).strip().splitlines()[-1:]}')
        return None
    # the run also connects and disconnects: CPU per wall second of the whole run
    return {'iops': float(m.group(1)), 'mib_s': float(m.group(2)),
            'avg_us': float(m.group(3)), 'cores': (c1 - c0) / (t1 - t0),
            'client_cores': client}


def iperf3(cpu_server, cpu_client):
    if shutil.which('iperf3') is None:
        return None
    port = free_port()
    srv = subprocess.Popen(['iperf3', '-s', '-1', '-p', str(port), '-A', str(cpu_server)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        out = subprocess.run(['iperf3', '-c', '127.0.0.1', '-p', str(port), '-t', '3', '-J',
                              '-A', str(cpu_client)], capture_output=True, text=True,
                             timeout=30)
        return json.loads(out.stdout)['end']['sum_received']['bits_per_second'] / 1e9
    except (ValueError, KeyError, subprocess.TimeoutExpired):
        return None
    finally:
        srv.kill()
        srv.wait()


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    nvmfd, outdir = sys.argv[1], sys.argv[2]
    spdk = os.environ.get('SPDK_DIR', '')
    need = ['build/bin/nvmf_tgt', 'build/bin/spdk_nvme_perf', 'scripts/rpc.py']
    if not spdk or not all(os.path.exists(os.path.join(spdk, n)) for n in need):
        say('skipped: SPDK_DIR does not point at an SPDK build '
            '(build/bin/nvmf_tgt, build/bin/spdk_nvme_perf, scripts/rpc.py)')
        return 0
    if os.geteuid() != 0:
        say('skipped: SPDK needs hugepages, which only root can reserve')
        return 0
    runs = int(os.environ.get('RUNS', '3'))
    secs = int(os.environ.get('SECS', '5'))
    ct, cc = int(os.environ.get('CPU_TARGET', '0')), int(os.environ.get('CPU_CLIENT', '1'))
    rows = os.environ.get('ROWS', 'all')
    matrix = [r for r in MATRIX if rows == 'all' or r[0] in rows.split()]
    os.makedirs(outdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix='nvmfd-spdk-bench.')
    # nvmfd0: nvmfd with busy_poll = 0, so that its CPU is the work the load needs
    kinds = ('spdk', 'nvmfd') + (('nvmfd0',) if os.environ.get('BUSY_POLL_OFF', '1') == '1'
                                  else ())
    res = {k: {r[0]: [] for r in matrix} for k in kinds}
    srows = os.environ.get('SCALE_ROWS', 'rr4k-qd32 rw4k-qd32')
    scale = [r for r in MATRIX if srows != 'none' and r[0] in srows.split()]
    res2 = {k: {r[0]: [] for r in scale} for k in ('spdk', 'nvmfd')}
    gbit = [iperf3(ct, cc)]
    try:
        with Hugepages():
            for rnd in range(runs):
                order = kinds if rnd % 2 == 0 else kinds[::-1]
                for kind in order:
                    t = Target(kind, work, nvmfd, spdk, [ct])
                    t.start()
                    try:
                        for row in matrix:
                            r = perf(spdk, t, row, secs, [cc])
                            res[kind][row[0]].append(r)
                            if r:
                                say(f'round {rnd + 1} {kind:6} {row[0]:20} {r["iops"]:10.0f} '
                                    f'IOPS {r["mib_s"]:8.1f} MiB/s  target {r["cores"]:.2f} '
                                    'cores')
                    finally:
                        t.stop()
            # both CPUs: target and client on CPU ct and cc each
            for rnd in range(runs if scale else 0):
                order = ('spdk', 'nvmfd') if rnd % 2 == 0 else ('nvmfd', 'spdk')
                for kind in order:
                    t = Target(kind, work, nvmfd, spdk, [ct, cc])
                    t.start()
                    try:
                        for row in scale:
                            r = perf(spdk, t, row, secs, [ct, cc])
                            res2[kind][row[0]].append(r)
                            if r:
                                say(f'round {rnd + 1} {kind:5} {row[0]:20} both CPUs '
                                    f'{r["iops"]:10.0f} IOPS  target {r["cores"]:.2f} cores, '
                                    f'client {r["client_cores"]:.2f}')
                    finally:
                        t.stop()
        gbit.append(iperf3(ct, cc))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    g = median(gbit)
    lines = [f'# nvmfd against SPDK nvmf_tgt, same client (spdk_nvme_perf), {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}',
             '',
             f'Medians of {runs} alternating rounds of {secs} s; both targets on CPU {ct}, '
             f'the client on CPU {cc}. iperf3 in the same window: '
             + (', '.join(f'{x:.1f}' for x in gbit if x) + ' Gbit/s' if g else 'not measured') + '.',
             '',
             '| row | SPDK IOPS | nvmfd IOPS | IOPS ratio | SPDK cores | nvmfd cores | per target core |'
             + (' nvmfd busy_poll 0 | its cores | ratio | per target core |' if 'nvmfd0' in res else ''),
             '|---|---|---|---|---|---|---|' + ('---|---|---|---|' if 'nvmfd0' in res else '')]
    table = []
    for row in matrix:
        n = row[0]
        s = {k: median([r[k] for r in res['spdk'][n] if r]) for k in ('iops', 'mib_s', 'cores')}
        d = {k: median([r[k] for r in res['nvmfd'][n] if r]) for k in ('iops', 'mib_s', 'cores')}
        ratio = d['iops'] / s['iops'] if s['iops'] and d['iops'] else None
        per_core = (d['iops'] / d['cores']) / (s['iops'] / s['cores']) \
            if ratio and s['cores'] and d['cores'] else None
        entry = {'row': n, 'spdk': s, 'nvmfd': d, 'ratio': ratio, 'per_core': per_core,
                 'spdk_runs': res['spdk'][n], 'nvmfd_runs': res['nvmfd'][n]}
        z = None
        if 'nvmfd0' in res:
            z = {k: median([r[k] for r in res['nvmfd0'][n] if r])
                 for k in ('iops', 'mib_s', 'cores')}
            z['ratio'] = z['iops'] / s['iops'] if s['iops'] and z['iops'] else None
            z['per_core'] = (z['iops'] / z['cores']) / (s['iops'] / s['cores']) \
                if z['ratio'] and s['cores'] and z['cores'] else None
            entry.update({'nvmfd_busy_poll_0': z, 'nvmfd_busy_poll_0_runs': res['nvmfd0'][n]})
        table.append(entry)

        def f(x, fmt):
            return fmt.format(x) if x is not None else 'n/a'
        big = row[2] >= 65536
        val = (lambda x: f(x['mib_s'] * 1.048576 / 1000 if x['mib_s'] else None, '{:.2f} GB/s')) \
            if big else (lambda x: f(x['iops'] / 1000 if x['iops'] else None, '{:.1f}k'))
        lines.append(f'| {n} | {val(s)} | {val(d)} | {f(ratio, "{:.2f}")} | '
                     f'{f(s["cores"], "{:.2f}")} | {f(d["cores"], "{:.2f}")} | '
                     f'{f(per_core, "{:.2f}")} |'
                     + (f' {val(z)} | {f(z["cores"], "{:.2f}")} | {f(z["ratio"], "{:.2f}")} | '
                        f'{f(z["per_core"], "{:.2f}")} |' if z else ''))
    scaling = []
    if scale:
        lines += ['', f'Both CPUs: each target on CPUs {ct} and {cc} (nvmfd 2 workers, nvmf_tgt '
                  '2 reactors), the client on the same two (one queue per CPU at the row\'s '
                  'depth); "1 CPU" is the row above (target on one CPU, client on the other). '
                  'Cores: CPU used, target / client.',
                  '',
                  '| row | SPDK 1 CPU | SPDK 2 CPUs | scaling | cores | nvmfd 1 CPU | '
                  'nvmfd 2 CPUs | scaling | cores | nvmfd / SPDK, 2 CPUs |',
                  '|---|---|---|---|---|---|---|---|---|---|']
        for row in scale:
            n = row[0]
            one = {k: median([r['iops'] for r in res[k].get(n, []) if r]) for k in res2}
            two = {k: {f: median([r[f] for r in res2[k][n] if r])
                       for f in ('iops', 'cores', 'client_cores')} for k in res2}

            def g(x, fmt):
                return fmt.format(x) if x is not None else 'n/a'

            def sc(k):
                return two[k]['iops'] / one[k] if one[k] and two[k]['iops'] else None
            both = two['nvmfd']['iops'] / two['spdk']['iops'] \
                if two['nvmfd']['iops'] and two['spdk']['iops'] else None
            scaling.append({'row': n, 'one_cpu': one, 'two_cpus': two,
                            'spdk_runs': res2['spdk'][n], 'nvmfd_runs': res2['nvmfd'][n]})
            cells = []
            for k in ('spdk', 'nvmfd'):
                cells += [g(one[k] / 1000 if one[k] else None, '{:.1f}k'),
                          g(two[k]['iops'] / 1000 if two[k]['iops'] else None, '{:.1f}k'),
                          g(sc(k), '{:.2f}'),
                          g(two[k]['cores'], '{:.2f}') + ' / ' + g(two[k]['client_cores'], '{:.2f}')]
            lines.append(f'| {n} | ' + ' | '.join(cells) + f' | {g(both, "{:.2f}")} |')
    stamp = time.strftime('%Y%m%d-%H%M%S')
    md = '\n'.join(lines) + '\n'
    for name in (f'spdk-{stamp}', 'spdk-latest'):
        with open(os.path.join(outdir, name + '.md'), 'w') as f:
            f.write(md)
        with open(os.path.join(outdir, name + '.json'), 'w') as f:
            json.dump({'iperf3_gbit': gbit, 'runs': runs, 'secs': secs, 'rows': table,
                       'both_cpus': scaling}, f, indent=1)
    print(md)
    return 0


if __name__ == '__main__':
    sys.exit(main())
