/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmfd configuration: an INI file (inih) turned into validated structs.
 *
 *   [nvmfd]
 *   listen = 0.0.0.0:4420          ; repeatable; IPv6 as [::]:4420; port defaults to 4420
 *                                  ; then optionally ana_state=GROUP:STATE[,GROUP:STATE...]
 *                                  ; (optimized, non-optimized, inaccessible,
 *                                  ; persistent-loss, change; unlisted groups: optimized)
 *   tls_listen = 0.0.0.0:4421      ; repeatable, like listen; TLS 1.3 (PSK) required
 *   discovery_listen = 0.0.0.0:8009 ; repeatable; discovery-only port(s)
 *   discovery = yes                ; also answer discovery on the I/O ports
 *   workers = auto                 ; or 1..256
 *   state_dir = /var/lib/nvmfd
 *   log_level = info               ; error, warn, info, debug
 *   max_h2c_data = 128k            ; MAXH2CDATA, >= 4k, multiple of 4
 *   in_capsule_data = 8k           ; I/O queue in-capsule data (IOCCSZ); >= 8k
 *   max_transfer = 1M              ; MDTS, a power of two >= 4k
 *   queue_depth = 128              ; I/O queue entries (MQES + 1), 16..4096
 *   max_io_queues = 64
 *   kato_default = 120             ; seconds, applied when a host asks for 0
 *                                  ; (discovery controllers only)
 *   tcp_keepalive_idle = 30s       ; TCP keepalive probes after this idle time; 0: off
 *   tcp_keepalive_interval = 10s   ; between probes
 *   tcp_keepalive_count = 6        ; unanswered probes before the connection is dropped
 *   busy_poll = 50us               ; spin this long for the next event; 0: never
 *   max_connections = 4096         ; TCP connections held at once (every listener)
 *   max_connections_per_host = 1024 ; per address before Connect, per host NQN after
 *   max_controllers_per_subsystem = 256
 *   icreq_timeout = 10s            ; accept to ICReq; durations: N, Ns or Nms
 *   pdu_timeout = 30s              ; a PDU's first byte to its last
 *   auth_timeout = 30s             ; DH-HMAC-CHAP: Connect (or AUTH_Negotiate) to success
 *   max_buffers_per_connection = 32M ; data buffer bytes one connection may hold
 *   ceph_conf = /etc/ceph/ceph.conf ; RBD namespaces: the cluster (default: librados' search)
 *   ceph_id = admin                ; the client name without "client."
 *   ceph_keyring = PATH            ; default: librados' keyring search
 *   cntlid_range = 1-65519         ; controller IDs this instance gives (several gateways)
 *   referral = 192.0.2.7:8009      ; repeatable: another discovery controller (SUBTYPE 1)
 *
 *   [subsystem NQN]
 *   allow_host = any               ; or one host NQN per line (repeatable)
 *   serial = NVMFD0001             ; up to 20 ASCII characters
 *   model = nvmfd                  ; up to 40 ASCII characters
 *   listener = 127.0.0.1:4420      ; repeatable, or comma-separated: served only on these
 *                                  ; 'listen =' addresses (default: on every one)
 *   require_auth = no              ; yes: every host must authenticate (DH-HMAC-CHAP)
 *
 *   [host NQN]                     ; what one host must prove (nvmfd.ini(5) SECURITY)
 *   dhchap_key = DHHC-1:01:...:    ; its DH-HMAC-CHAP secret, or @/path/to/file
 *   dhchap_ctrl_key = DHHC-1:...:  ; ours, for bidirectional authentication
 *   dhchap_hashes = sha256,sha384,sha512       ; allowed, most preferred first
 *   dhchap_dhgroups = ffdhe2048,...,null       ; allowed, most preferred first
 *   tls_key = NVMeTLSkey-1:01:...: ; its TLS pre-shared key, or @/path/to/file
 *   tls_psk_derivation = libnvme-compat ; or rfc8446: how the host derives (NVMe0 identities)
 *
 *   [namespace NQN NSID]
 *   path = /dev/vdb                ; a block device, a regular file, ram:SIZE,
 *                                  ; or rbd:POOL/IMAGE (rbd:POOL/NAMESPACE/IMAGE)
 *   read_only = no
 *   block_size = 512               ; 512 or 4096 (files and RAM; devices report theirs)
 *   direct = yes                   ; O_DIRECT for files and block devices
 *   uuid = 8-4-4-4-12              ; optional; by default derived from NQN and NSID
 *   ana_group = 1                  ; its ANA group, 1..64
 *
 * Every error is reported as "file:line: message" and fails the whole load;
 * a warning ("file:line: warning: message": a value given twice, a RAM size
 * rounded down to whole blocks) does not. All of a file's problems are
 * reported in one run, in line order, an unknown key or section with the
 * known name it is closest to ("did you mean 'listen'?").
 * inih reads at most 198 characters per line (Debian's build): longer lines
 * are reported, never truncated silently.
 *
 * This module knows nothing of I/O or of the protocol beyond syntax checks.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhchap_key.h"
#include "tls_psk.h"

#define CFG_NQN_MAX	 223
#define CFG_PATH_MAX	 4096
#define CFG_DEFAULT_PORT 4420
#define CFG_DISC_PORT	 8009
#define CFG_LINE_MAX	 198

#define CFG_ANA_GROUPS 64     /* ANA group IDs 1..64 (ANAGRPMAX, NANAGRPID) */
#define CFG_CNTLID_MAX 0xffef /* NVMe-oF 1.1 3.3: FFF0h and above are reserved */

enum cfg_log_level { CFG_LOG_ERR, CFG_LOG_WARN, CFG_LOG_INFO, CFG_LOG_DEBUG };

/* ANA states (NVMe Base 2.0 Figure 226, ANAS): the values the ANA log page carries. */
enum cfg_ana_state {
	CFG_ANA_OPTIMIZED = 0x1,
	CFG_ANA_NON_OPTIMIZED = 0x2,
	CFG_ANA_INACCESSIBLE = 0x3,
	CFG_ANA_PERSISTENT_LOSS = 0x4,
	CFG_ANA_CHANGE = 0xf,
};

struct cfg_listener {
	char host[64]; /* numeric address or name, without brackets */
	uint16_t port;
	bool discovery_only;
	bool tls; /* tls_listen: TLS 1.3 with a PSK before ICReq, nothing in plain text */
	int line;
	/* the state of each ANA group through this listener, [0] unused */
	uint8_t ana_state[CFG_ANA_GROUPS + 1];
};

/* A listener a subsystem is limited to, or a referral: an address and a port. */
struct cfg_addr {
	char host[64];
	uint16_t port;
	int line;
};

struct cfg_namespace {
	uint32_t nsid;
	char path[CFG_PATH_MAX]; /* as written; "ram:SIZE" for RAM, "rbd:POOL/IMAGE" */
	bool is_ram;
	bool is_rbd;
	uint64_t ram_size;
	bool read_only;
	uint32_t block_size; /* 0: the backend decides (device) or 512 */
	bool direct;
	bool prealloc; /* RAM: the whole store taken at open (default yes) */
	bool has_uuid;
	uint8_t uuid[16];
	uint32_t ana_group; /* 1..CFG_ANA_GROUPS */
	int line;	    /* its [namespace ...] header */
	int path_line;	    /* its path key: where backing-store problems are reported */
};

/* Where a secret came from, for messages: the config line, and the file of @path. */
struct cfg_secret_src {
	int line;
	char file[CFG_PATH_MAX]; /* "" when written inline */
};

#define CFG_DHCHAP_MAX_HASHES	3
#define CFG_DHCHAP_MAX_DHGROUPS 6

/* A [host NQN] section: the secrets and choices for one host. Keys are wiped by cfg_free(). */
struct cfg_host {
	char nqn[CFG_NQN_MAX + 1];
	int line;
	bool has_dhchap_key;
	struct dhchap_key dhchap_key; /* the host's secret: it proves it holds it */
	struct cfg_secret_src dhchap_key_src;
	bool has_dhchap_ctrl_key;
	struct dhchap_key dhchap_ctrl_key; /* ours: bidirectional authentication */
	struct cfg_secret_src dhchap_ctrl_key_src;
	/* allowed, most preferred first (NVMF_DHCHAP_HASH_* / _DHGROUP_* ids); 0: the defaults */
	uint8_t dhchap_hashes[CFG_DHCHAP_MAX_HASHES];
	uint8_t ndhchap_hashes;
	uint8_t dhchap_dhgroups[CFG_DHCHAP_MAX_DHGROUPS];
	uint8_t ndhchap_dhgroups;
	bool has_tls_key;
	struct tls_psk_key tls_key; /* the configured PSK (NVMe/TCP 1.1 3.6.1.3) */
	struct cfg_secret_src tls_key_src;
	/*
	 * How this host turns tls_key into the TLS PSK when its identity
	 * cannot tell (NVMe0 identities; tls_psk.h enum tls_psk_kdf). The
	 * default, libnvme-compat, is what nvme-cli <= 2.15 computes.
	 */
	enum tls_psk_kdf tls_psk_kdf;
	int tls_psk_kdf_line; /* 0: the default */
};

struct cfg_subsystem {
	char nqn[CFG_NQN_MAX + 1];
	bool allow_any_host;
	bool require_auth; /* a host without a dhchap_key is refused */
	size_t nhosts;
	char (*hosts)[CFG_NQN_MAX + 1];
	char serial[21];
	char model[41];
	size_t nports; /* 0: served on every I/O listener */
	struct cfg_addr *ports;
	size_t nns;
	struct cfg_namespace *ns;
	int line;
};

struct cfg_config {
	char source[256]; /* file name for messages, or "<embedded default>" */
	size_t nlisteners;
	struct cfg_listener *listeners;
	bool discovery;
	unsigned int workers; /* 0 = auto: one per online CPU */
	char state_dir[CFG_PATH_MAX];
	enum cfg_log_level log_level;
	uint32_t max_h2c_data;
	uint32_t in_capsule_data;
	uint32_t max_transfer;
	uint32_t queue_depth;
	uint32_t max_io_queues;
	uint32_t kato_default;
	uint32_t busy_poll_us; /* a worker's spin before it sleeps (worker_loop) */
	/* resource limits (nvmfd.ini(5) LIMITS) */
	uint32_t max_connections;
	uint32_t max_connections_per_host;
	uint32_t max_controllers_per_subsystem;
	uint32_t icreq_timeout_ms;
	uint32_t pdu_timeout_ms;
	uint32_t auth_timeout_ms;	/* an authentication transaction, Connect to success */
	uint32_t tcp_keepalive_idle_ms; /* 0: no TCP keepalive */
	uint32_t tcp_keepalive_interval_ms;
	uint32_t tcp_keepalive_count;
	uint32_t max_buffers_per_connection; /* bytes */
	/* RBD namespaces: how to reach the cluster ("" = Ceph's default) */
	char ceph_conf[CFG_PATH_MAX];
	char ceph_id[128];
	char ceph_keyring[CFG_PATH_MAX];
	/* several gateways */
	uint16_t cntlid_min, cntlid_max;
	size_t nreferrals;
	struct cfg_addr *referrals;
	size_t nsubsys;
	struct cfg_subsystem *subsys;
	size_t nhosts;
	struct cfg_host *hosts;
	/* "file:line: warning: ..." lines (NUL-terminated; NULL: none), e.g. a secret others can read */
	char *warnings;
};

/*
 * Parse and validate a configuration. Returns 0 and a new config in *out
 * (free with cfg_free), or a negative errno with the messages ("file:line:
 * what is wrong", one per line, in line order) in errbuf. On success errbuf
 * holds the warnings, if any ("file:line: warning: ..." lines).
 */
int cfg_load_file(const char *path, struct cfg_config **out, char *errbuf, size_t errlen);
int cfg_load_string(const char *name, const char *text, struct cfg_config **out, char *errbuf,
		    size_t errlen);

/* The embedded default: a 1 GiB RAM namespace on 127.0.0.1:4420. */
int cfg_load_default(struct cfg_config **out, char *errbuf, size_t errlen);
#define CFG_DEFAULT_NQN "nqn.2026-11.io.nvmfd:default"

void cfg_free(struct cfg_config *cfg);

/* One problem of a file; line 0: of the file as a whole (it cannot be read). */
struct cfg_diag {
	int line;
	bool warning; /* the file loads all the same */
	char *msg;    /* without "file:line: " */
};

struct cfg_diags {
	size_t n, cap;
	struct cfg_diag *d;
	size_t nerrors, nwarnings;
	bool oom; /* some were lost */
};

void cfg_diag_add(struct cfg_diags *d, int line, bool warning, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void cfg_diags_sort(struct cfg_diags *d);
/* "file:line: [warning: ]message" (no newline), as snprintf. */
int cfg_diag_format(const struct cfg_diag *g, const char *source, char *buf, size_t len);
/* Every message, one per line, as many as fit in whole lines. */
void cfg_diags_format(const struct cfg_diags *d, const char *source, char *buf, size_t len);
void cfg_diags_free(struct cfg_diags *d);
/* The name of names (NULL-terminated) that word is a slip of the keyboard for, or NULL. */
const char *cfg_suggest(const char *word, const char *const *names);

/*
 * A check of one namespace's backing store for cfg_check_*(): called for
 * every namespace whose path is well formed (even one the file has other
 * errors in), once the whole file is read, with the file's settings in cfg
 * (what opening the store needs beyond the namespace: [nvmfd]'s ceph_conf,
 * ceph_id and ceph_keyring for an rbd: path); it adds its own problems at
 * ns->path_line. The configuration module does no I/O: the daemon opens
 * the store.
 */
typedef void (*cfg_ns_check_fn)(void *arg, const struct cfg_config *cfg, const char *subnqn,
				const struct cfg_namespace *ns, struct cfg_diags *diags);

/*
 * nvmfd --check: every problem of the file (values, cross-references, and
 * what ns_check finds) into *diags, sorted by line. Returns 0 and the
 * configuration in *out (when out is not NULL) if there is no error,
 * -EINVAL if there is one, another negative errno if the file cannot be
 * read (said in *diags at line 0). Free *diags with cfg_diags_free.
 */
int cfg_check_file(const char *path, cfg_ns_check_fn ns_check, void *arg, struct cfg_config **out,
		   struct cfg_diags *diags);
int cfg_check_default(cfg_ns_check_fn ns_check, void *arg, struct cfg_config **out,
		      struct cfg_diags *diags);
int cfg_check_string(const char *name, const char *text, cfg_ns_check_fn ns_check, void *arg,
		     struct cfg_config **out, struct cfg_diags *diags);

/* Helpers shared with the daemon and the tools. */
int cfg_parse_size(const char *s, uint64_t *out);
int cfg_parse_bool(const char *s, bool *out);
int cfg_parse_uuid(const char *s, uint8_t out[16]);
/* "30", "30s", "500ms" -> milliseconds. */
int cfg_parse_duration_ms(const char *s, uint64_t *out);
/* The same, and "50us", -> microseconds. */
int cfg_parse_duration_us(const char *s, uint64_t *out);
bool cfg_nqn_valid(const char *nqn);
/* "optimized", "non-optimized", ... -> enum cfg_ana_state; -EINVAL if none. */
int cfg_parse_ana_state(const char *s, uint8_t *out);
const char *cfg_ana_state_name(uint8_t state);
/*
 * The most namespaces a subsystem may have so that the ANA log page (16
 * bytes, a 32-byte descriptor per group, 4 bytes per namespace) fits one
 * transfer of max_transfer bytes, as the Linux host requires (MNAN).
 */
uint32_t cfg_max_namespaces(uint32_t max_transfer);
/* Whether listener l is one a subsystem limited to ports serves. */
bool cfg_subsys_serves(const struct cfg_subsystem *s, const char *host, uint16_t port);

const struct cfg_subsystem *cfg_find_subsystem(const struct cfg_config *cfg, const char *nqn);
/* The [host NQN] section of a host, or NULL. */
const struct cfg_host *cfg_find_host(const struct cfg_config *cfg, const char *nqn);
