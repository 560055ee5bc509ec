#!/usr/bin/env bash
# with-ceph.sh CMD [ARGS...]: run CMD against a throwaway single-node Ceph
# cluster (../shared/tools/mini-ceph: one monitor, one memstore OSD, pool
# "rbd", no authentication unless WITH_CEPH_AUTH=cephx) started here,
# CEPH_CONF set to its ceph.conf; the cluster is stopped and removed when
# CMD ends, whatever its outcome. CMD's status is ours.
#
# Where no cluster can start (mini-ceph or Ceph's packages missing, a start
# that fails), CMD still runs, with NVMFD_CEPH_SKIP set to the reason and no
# CEPH_CONF: the RBD tests then skip with that reason. REQUIRE_CEPH=1 makes
# that a failure instead (CI, where scripts/install-deps.sh installed Ceph).
#
# Environment: MINI_CEPH (the mini-ceph script; default
# ../shared/tools/mini-ceph/mini-ceph beside the source tree), CEPH_MON_PORT
# (the monitor's first port, the next one is also used; default: a free pair),
# WITH_CEPH_AUTH=cephx: the cluster requires cephx everywhere (mini-ceph
# starts without authentication; its EXTRA_CONF turns cephx on, with a
# keyring made here holding the mon., osd.0 and client.admin keys, named by
# "keyring" in ceph.conf's [global] so that Ceph's tools find the admin key;
# CEPH_AUTH=cephx is then exported for the test).
set -u

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mc=${MINI_CEPH:-$src/../shared/tools/mini-ceph/mini-ceph}
unset CEPH_CONF CEPH_AUTH NVMFD_CEPH_SKIP
reason=
if [[ ! -x $mc ]]; then
	reason="no mini-ceph at $mc (MINI_CEPH)"
else
	for p in ceph-mon ceph-osd ceph rbd monmaptool ceph-authtool uuidgen bc; do
		if ! command -v "$p" >/dev/null; then
			reason="$p is not installed (scripts/install-deps.sh installs Ceph's packages)"
			break
		fi
	done
fi

# Two consecutive free ports on 127.0.0.1 (msgr v2, then v1).
free_port_pair() {
	python3 - <<'PY'
import socket
for base in range(40000, 60000, 2):
    socks = []
    try:
        for p in (base, base + 1):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            socks.append(s)
        print(base)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
PY
}

dir='' keydir=''
log=$(mktemp "${TMPDIR:-/tmp}/with-ceph.XXXXXX")
cleanup() {
	[[ -n $keydir ]] && rm -rf -- "$keydir"
	if [[ -n $dir ]]; then
		"$mc" stop "$dir" >/dev/null 2>&1
		# a daemon still writing as it died can make stop's rm -rf fail
		[[ -d $dir ]] && sleep 1 && rm -rf -- "$dir"
	fi
	rm -f "$log"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# cephx: the keys mini-ceph's daemons and the admin tools authenticate with
# (the monitor imports every key of the keyring at mkfs, caps included; the
# OSD mini-ceph creates first is osd.0).
extra_conf=
if [[ -z $reason && ${WITH_CEPH_AUTH:-none} == cephx ]]; then
	keydir=$(mktemp -d "${TMPDIR:-/tmp}/with-ceph-keys.XXXXXX")
	kr=$keydir/ceph.keyring
	if ceph-authtool --create-keyring "$kr" --gen-key -n mon. --cap mon 'allow *' >/dev/null &&
		ceph-authtool "$kr" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
			--cap mgr 'allow *' >/dev/null &&
		ceph-authtool "$kr" --gen-key -n osd.0 --cap mon 'allow profile osd' \
			--cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null; then
		extra_conf="auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $kr"
	else
		reason="ceph-authtool could not make the cluster's keyring"
	fi
elif [[ ${WITH_CEPH_AUTH:-none} != none ]]; then
	reason="WITH_CEPH_AUTH=$WITH_CEPH_AUTH: none or cephx"
fi

if [[ -z $reason ]]; then
	port=${CEPH_MON_PORT:-$(free_port_pair)}
	t0=$SECONDS
	if out=$(MON_PORT=$port EXTRA_CONF=$extra_conf "$mc" start 2>"$log") && [[ $out == *CEPH_CONF=* ]]; then
		export CEPH_CONF=${out##*CEPH_CONF=}
		dir=$(dirname "$CEPH_CONF")
		[[ -n $extra_conf ]] && export CEPH_AUTH=cephx
		echo "# with-ceph: cluster up in $((SECONDS - t0)) s on 127.0.0.1:$port ($dir, auth ${WITH_CEPH_AUTH:-none})" >&2
	else
		reason="mini-ceph failed to start: $(tail -n 1 "$log")"
		sed 's/^/# mini-ceph: /' "$log" >&2
	fi
fi
if [[ -n $reason ]]; then
	if [[ ${REQUIRE_CEPH:-0} == 1 ]]; then
		echo "with-ceph: $reason (REQUIRE_CEPH=1)" >&2
		exit 1
	fi
	export NVMFD_CEPH_SKIP=$reason
	echo "# with-ceph: $reason: the RBD tests skip" >&2
fi
"$@"
