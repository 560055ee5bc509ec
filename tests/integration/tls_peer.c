/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A TLS 1.3 PSK peer that misbehaves on purpose, for tests/integration/
 * tls_hostile.py: libnvmf's client session (transport/tls_session.h) over
 * a plain blocking socket.
 *
 *   tls_peer MODE PORT HOSTNQN SUBNQN KEY [IDENTITY-VERSION]
 *
 * MODE:
 *   hello     handshake, then an ICReq; prints "ok CIPHER" once the ICResp
 *             came back
 *   stall     sends the ClientHello, then nothing: prints "closed after N ms"
 *             when the server gives up
 *   keyupdate handshake, a KeyUpdate asking for the server's (RFC 8446
 *             4.6.3), an ICReq under the new keys: "ok CIPHER" once the
 *             ICResp came back; then close_notify, and the server closes
 *   corrupt   handshake, then one record with a flipped ciphertext byte
 *   truncate  handshake, then half a record and a FIN
 * After the misbehaviour it waits for the server to close and prints
 * "closed after N ms" (exit 0); a handshake that fails prints "refused:
 * REASON" (exit 0); anything unexpected exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nvme_tcp.h"
#include "pdu.h"
#include "tls_psk.h"
#include "tls_session.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_all(int s, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(s, p, n, MSG_NOSIGNAL);

		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int flush(int s, struct tls_session *t)
{
	const uint8_t *p;
	size_t n = tls_session_pending_out(t, &p);
	int r = n ? send_all(s, p, n) : 0;

	tls_session_consume_out(t, n);
	return r;
}

/* Feed what arrives; 0 on data, 1 on EOF, -1 on error. */
static int pump(int s, struct tls_session *t)
{
	uint8_t buf[16384];
	ssize_t n = recv(s, buf, sizeof(buf), 0);

	if (n < 0)
		return -1;
	if (n == 0) {
		tls_session_feed_eof(t);
		return 1;
	}
	return tls_session_feed(t, buf, (size_t)n) ? -1 : 0;
}

/* Read until the server closes; "closed: ..." */
static int wait_closed(int s, int64_t t0)
{
	uint8_t buf[4096];

	for (;;) {
		ssize_t n = recv(s, buf, sizeof(buf), 0);

		if (n <= 0) {
			printf("closed after %lld ms%s\n", (long long)(now_ms() - t0),
			       n < 0 ? " (reset)" : "");
			return 0;
		}
	}
}

static struct tls_ctx *ctx;
static struct tls_session *t;
static int s = -1;

static int run(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	char identity[TLS_PSK_IDENTITY_MAX + 1];
	uint8_t psk[TLS_PSK_MAX_LEN];
	struct tls_psk_key key;
	const char *why = NULL, *mode;
	unsigned int version = argc > 6 ? (unsigned int)atoi(argv[6]) : 1;
	int64_t t0;
	int r, err = 0;

	if (argc < 6) {
		fprintf(stderr,
			"usage: %s hello|keyupdate|stall|corrupt|truncate PORT HOSTNQN SUBNQN KEY "
			"[0|1]\n",
			argv[0]);
		return 2;
	}
	mode = argv[1];
	if (tls_psk_parse(argv[5], &key, &why) ||
	    tls_psk_host_derive(&key, argv[3], argv[4], version, TLS_PSK_KDF_RFC8446, identity,
				sizeof(identity), psk)) {
		fprintf(stderr, "bad key: %s\n", why ? why : "derivation");
		return 2;
	}
	ctx = tls_ctx_new(&err);
	t = ctx ? tls_session_new_client(ctx, identity, psk,
					 tls_psk_hash_len(tls_psk_key_cipher_hash(&key)), &err)
		: NULL;
	if (t == NULL)
		return 1;
	a.sin_port = htons((uint16_t)atoi(argv[2]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("connect");
		return 1;
	}
	t0 = now_ms();
	r = tls_session_handshake(t); /* the ClientHello */
	if (r != -EAGAIN || flush(s, t))
		return 1;
	if (strcmp(mode, "stall") == 0)
		return wait_closed(s, t0);
	while ((r = tls_session_handshake(t)) == -EAGAIN) {
		if (flush(s, t))
			return 1;
		if (pump(s, t) < 0)
			return 1;
	}
	flush(s, t);
	if (r) {
		printf("refused: %s\n", tls_session_error(t));
		return 0;
	}
	if (strcmp(mode, "hello") == 0 || strcmp(mode, "keyupdate") == 0) {
		bool ku = mode[0] == 'k';
		struct tcp_tx_pdu ic;
		uint8_t resp[128];
		size_t got = 0;

		if (ku && tls_session_key_update(t, true) != 0)
			return 1;
		tcp_build_icreq(&ic, 0, 0, 0);
		if (tls_session_write(t, ic.iov, ic.iovcnt) < 0 || flush(s, t))
			return 1;
		while (got < sizeof(resp)) {
			ssize_t n = tls_session_read(t, resp + got, sizeof(resp) - got);

			if (n > 0) {
				got += (size_t)n;
				continue;
			}
			if (n != -EAGAIN || pump(s, t) != 0) {
				printf("no ICResp: %s\n", tls_session_error(t));
				return 1;
			}
		}
		printf("ok %s, ICResp type %u\n", tls_cipher_name(tls_session_cipher(t)), resp[0]);
		if (resp[0] != NVME_TCP_ICRESP)
			return 1;
		if (!ku)
			return 0;
		fflush(stdout);
		/* our close_notify: the server ends the connection cleanly */
		if (tls_session_close(t) != 0 || flush(s, t))
			return 1;
		return wait_closed(s, t0);
	}
	if (strcmp(mode, "corrupt") == 0 || strcmp(mode, "truncate") == 0) {
		uint8_t data[64];
		struct iovec v = {.iov_base = data, .iov_len = sizeof(data)};
		const uint8_t *p;
		uint8_t rec[256];
		size_t n;

		memset(data, 0, sizeof(data));
		if (tls_session_write(t, &v, 1) < 0)
			return 1;
		n = tls_session_pending_out(t, &p);
		if (n > sizeof(rec) || n < 20)
			return 1;
		memcpy(rec, p, n);
		tls_session_consume_out(t, n);
		if (mode[0] == 'c') {
			rec[10] ^= 0x40; /* inside the encrypted record body */
			if (send_all(s, rec, n))
				return 1;
		} else {
			if (send_all(s, rec, n / 2))
				return 1;
			shutdown(s, SHUT_WR);
		}
		return wait_closed(s, t0);
	}
	fprintf(stderr, "unknown mode %s\n", mode);
	return 2;
}

int main(int argc, char **argv)
{
	int ret = run(argc, argv);

	/* everything freed: the sanitizer build checks for leaks */
	tls_session_free(t);
	tls_ctx_free(ctx);
	if (s >= 0)
		close(s);
	return ret;
}
