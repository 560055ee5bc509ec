/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NQN validation (NVMe Base Specification 2.0, 4.5 "NVMe Qualified Names")
 * and the default host identity.
 */
#include "nqn.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "byteorder.h"

/* ---- NQN ---- */

/* Valid UTF-8 with no C0 control characters or DEL. */
static bool utf8_printable(const unsigned char *s)
{
	while (*s) {
		int n = 0;

		if (*s < 0x20 || *s == 0x7f)
			return false;
		if (*s < 0x80)
			n = 0;
		else if ((*s & 0xe0) == 0xc0 && *s >= 0xc2)
			n = 1;
		else if ((*s & 0xf0) == 0xe0)
			n = 2;
		else if ((*s & 0xf8) == 0xf0 && *s <= 0xf4)
			n = 3;
		else
			return false;
		s++;
		for (; n > 0; n--, s++)
			if ((*s & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "yyyy-mm." then a reverse domain name up to ':' or the end. */
static int check_date_domain(const char *s, const char **why)
{
	size_t dlen;

	if (!all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '.') {
		*why = "does not continue \"nqn.yyyy-mm.\" (the date the naming authority "
		       "owned the domain)";
		return -EINVAL;
	}
	if ((s[5] - '0') * 10 + (s[6] - '0') < 1 || (s[5] - '0') * 10 + (s[6] - '0') > 12) {
		*why = "has an invalid month in \"nqn.yyyy-mm.\"";
		return -EINVAL;
	}
	s += 8;
	dlen = strcspn(s, ":");
	if (dlen == 0) {
		*why = "has no reverse domain name after the date";
		return -EINVAL;
	}
	for (size_t i = 0; i < dlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '-' && c != '.') {
			*why = "has a reverse domain name with characters other than "
			       "letters, digits, '-' and '.'";
			return -EINVAL;
		}
	}
	return 0;
}

int nvmf_nqn_check(const char *nqn, const char **why)
{
	const char *dummy;
	size_t len = strnlen(nqn, NVMF_NQN_FIELD);
	uint8_t uuid[16];

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (len == 0) {
		*why = "is empty";
		return -EINVAL;
	}
	if (len > NVMF_NQN_MAX) {
		*why = "is longer than 223 bytes";
		return -EINVAL;
	}
	if (!utf8_printable((const unsigned char *)nqn)) {
		*why = "is not printable UTF-8";
		return -EINVAL;
	}
	if (strncmp(nqn, "nqn.", 4) != 0) {
		*why = "does not start with \"nqn.\"";
		return -EINVAL;
	}
	/* 4.5.1: the UUID form, exactly the prefix and one UUID. */
	if (strncmp(nqn, NVMF_NQN_UUID_PREFIX, strlen(NVMF_NQN_UUID_PREFIX)) == 0) {
		if (nvmf_uuid_parse(nqn + strlen(NVMF_NQN_UUID_PREFIX), uuid) != 0) {
			*why = "has an invalid UUID after \"" NVMF_NQN_UUID_PREFIX "\"";
			return -EINVAL;
		}
		return 0;
	}
	return check_date_domain(nqn + 4, why);
}

/* ---- UUIDs ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int nvmf_uuid_parse(const char *s, uint8_t uuid[16])
{
	int n = 0;

	for (int i = 0; i < NVMF_UUID_STR_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		int hi = hexval(s[i]), lo = hi < 0 ? -1 : hexval(s[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		uuid[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return s[NVMF_UUID_STR_LEN] == '\0' ? 0 : -EINVAL;
}

void nvmf_uuid_format(const uint8_t u[16], char out[NVMF_UUID_STR_LEN + 1])
{
	snprintf(out, NVMF_UUID_STR_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
}

/* ---- SHA-256 (FIPS 180-4), only for HMAC over the machine ID ---- */

struct sha256 {
	uint32_t h[8];
	uint8_t buf[64];
	size_t buflen;
	uint64_t total;
};

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_block(struct sha256 *c, const uint8_t *p)
{
	uint32_t w[64], v[8];

	for (int i = 0; i < 16; i++) {
		memcpy(&w[i], p + 4 * i, 4);
		w[i] = be32toh(w[i]);
	}
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, c->h, sizeof(v));
	for (int i = 0; i < 64; i++) {
		uint32_t s1 = ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25);
		uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
		uint32_t t1 = v[7] + s1 + ch + sha256_k[i] + w[i];
		uint32_t s0 = ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22);
		uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);

		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + s0 + maj;
	}
	for (int i = 0; i < 8; i++)
		c->h[i] += v[i];
}

static void sha256_init(struct sha256 *c)
{
	static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(c->h, h0, sizeof(h0));
	c->buflen = 0;
	c->total = 0;
}

static void sha256_update(struct sha256 *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	c->total += len;
	while (len > 0) {
		size_t n = 64 - c->buflen < len ? 64 - c->buflen : len;

		memcpy(c->buf + c->buflen, p, n);
		c->buflen += n;
		p += n;
		len -= n;
		if (c->buflen == 64) {
			sha256_block(c, c->buf);
			c->buflen = 0;
		}
	}
}

static void sha256_final(struct sha256 *c, uint8_t out[32])
{
	uint64_t bits = c->total * 8;
	uint8_t pad = 0x80, zero = 0, len_be[8];

	sha256_update(c, &pad, 1);
	while (c->buflen != 56)
		sha256_update(c, &zero, 1);
	for (int i = 0; i < 8; i++)
		len_be[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_update(c, len_be, 8);
	for (int i = 0; i < 8; i++) {
		uint32_t be = htobe32(c->h[i]);

		memcpy(out + 4 * i, &be, 4);
	}
}

/* RFC 2104 HMAC with a key shorter than the block. */
static void hmac_sha256(const uint8_t *key, size_t klen, const void *msg, size_t mlen,
			uint8_t out[32])
{
	uint8_t k[64] = {0}, inner[32];
	struct sha256 c;

	memcpy(k, key, klen);
	for (int i = 0; i < 64; i++)
		k[i] ^= 0x36;
	sha256_init(&c);
	sha256_update(&c, k, 64);
	sha256_update(&c, msg, mlen);
	sha256_final(&c, inner);
	for (int i = 0; i < 64; i++)
		k[i] ^= 0x36 ^ 0x5c;
	sha256_init(&c);
	sha256_update(&c, k, 64);
	sha256_update(&c, inner, sizeof(inner));
	sha256_final(&c, out);
}

/* ---- Default identity ---- */

/*
 * Our application ID for the machine-ID derived host UUID, so that
 * `systemd-id128 machine-id --app-specific=e8c63e788ff44239acb57a70520367f8 -u`
 * prints the same UUID.
 */
static const uint8_t nvmfd_app_id[16] = {0xe8, 0xc6, 0x3e, 0x78, 0x8f, 0xf4, 0x42, 0x39,
					 0xac, 0xb5, 0x7a, 0x70, 0x52, 0x03, 0x67, 0xf8};

/* The first line of a small file, whitespace trimmed; false if none. */
static bool read_line(const char *path, char *buf, size_t size)
{
	FILE *f;
	size_t n;

	if (path == NULL || (f = fopen(path, "re")) == NULL)
		return false;
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strlen(buf);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return n > 0;
}

/* 32 hex digits (systemd machine-id(5)) into 16 bytes. */
static bool parse_machine_id(const char *s, uint8_t id[16])
{
	if (strlen(s) != 32)
		return false;
	for (int i = 0; i < 16; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* A stable UUID from the machine ID, else a random one. */
static int derive_uuid(const char *machine_id_path, uint8_t uuid[16])
{
	char line[80];
	uint8_t mid[16], mac[32];

	if (read_line(machine_id_path, line, sizeof(line)) && parse_machine_id(line, mid)) {
		hmac_sha256(mid, sizeof(mid), nvmfd_app_id, sizeof(nvmfd_app_id), mac);
		memcpy(uuid, mac, 16);
	} else if (getrandom(uuid, 16, 0) != 16) {
		return -errno;
	}
	/* RFC 4122 version 4, variant 1 (what systemd does too). */
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	return 0;
}

int nvmf_host_identity_from(const char *hostnqn_path, const char *hostid_path,
			    const char *machine_id_path, char hostnqn[NVMF_NQN_FIELD],
			    uint8_t hostid[16])
{
	char line[NVMF_NQN_FIELD + 2], ustr[NVMF_UUID_STR_LEN + 1];
	bool have_nqn = false, have_id = false;
	size_t plen = strlen(NVMF_NQN_UUID_PREFIX);
	int ret;

	if (read_line(hostnqn_path, line, sizeof(line)) && nvmf_nqn_valid(line)) {
		memcpy(hostnqn, line, strlen(line) + 1); /* valid: <= 223 bytes */
		have_nqn = true;
	}
	if (read_line(hostid_path, line, sizeof(line)) && nvmf_uuid_parse(line, hostid) == 0)
		have_id = true;
	if (!have_id && have_nqn && strncmp(hostnqn, NVMF_NQN_UUID_PREFIX, plen) == 0)
		have_id = nvmf_uuid_parse(hostnqn + plen, hostid) == 0;
	if (!have_id) {
		ret = derive_uuid(machine_id_path, hostid);
		if (ret)
			return ret;
	}
	if (!have_nqn) {
		nvmf_uuid_format(hostid, ustr);
		snprintf(hostnqn, NVMF_NQN_FIELD, "%s%s", NVMF_NQN_UUID_PREFIX, ustr);
	}
	return 0;
}

int nvmf_host_identity(char hostnqn[NVMF_NQN_FIELD], uint8_t hostid[16])
{
	return nvmf_host_identity_from("/etc/nvme/hostnqn", "/etc/nvme/hostid", "/etc/machine-id",
				       hostnqn, hostid);
}
