/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Section numbers are those of the NVM Express TCP Transport Specification
 * revision 1.1 (3.6.1.2 PSK interchange format is in the NVMe Base 2.1
 * section 8.3.5.5.4 too) and of RFC 8446 / RFC 5869 where named.
 */
#include "tls_psk.h"

#include <errno.h>
#include <isa-l/crc.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "byteorder.h"
#include "tls_kdf.h"

#define PREFIX	   "NVMeTLSkey-1:"
#define PREFIX_LEN (sizeof(PREFIX) - 1)
#define CRC_LEN	   4

static const char *md_name(enum tls_psk_hash h)
{
	switch (h) {
	case TLS_PSK_HASH_SHA256:
		return "SHA256";
	case TLS_PSK_HASH_SHA384:
		return "SHA384";
	default:
		return NULL;
	}
}

size_t tls_psk_hash_len(enum tls_psk_hash h)
{
	switch (h) {
	case TLS_PSK_HASH_SHA256:
		return 32;
	case TLS_PSK_HASH_SHA384:
		return 48;
	default:
		return 0;
	}
}

enum tls_psk_hash tls_psk_key_cipher_hash(const struct tls_psk_key *k)
{
	if (k->hash != TLS_PSK_HASH_NONE)
		return k->hash;
	return k->len == 48 ? TLS_PSK_HASH_SHA384 : TLS_PSK_HASH_SHA256;
}

static bool key_valid(const struct tls_psk_key *k)
{
	if (k->hash == TLS_PSK_HASH_NONE)
		return k->len == 32 || k->len == 48;
	return tls_psk_hash_len(k->hash) != 0 && k->len == tls_psk_hash_len(k->hash);
}

/* The interchange CRC is the zlib / IEEE CRC-32, stored little-endian. */
static uint32_t crc32_ieee_of(const uint8_t *p, size_t len)
{
	return crc32_gzip_refl(0, (unsigned char *)p, (uint64_t)len);
}

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/*
 * Strict standard base64 with padding: EVP_DecodeBlock() alone skips
 * blanks and reports padding as zero bytes. Returns the decoded length or -1.
 */
static int b64_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
	size_t pad = 0;
	int n;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap)
		return -1;
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (!is_b64(s[i]))
			return -1;
	n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0)
		return -1;
	return n - (int)pad;
}

int tls_psk_parse(const char *s, struct tls_psk_key *k, const char **why)
{
	uint8_t raw[TLS_PSK_MAX_LEN + CRC_LEN + 2];
	const char *why_ = NULL, *b64, *end;
	unsigned hh;
	int n, ret = -EINVAL;

	memset(k, 0, sizeof(*k));
	if (strncmp(s, PREFIX, PREFIX_LEN) != 0) {
		why_ = "does not start with \"NVMeTLSkey-1:\"";
		goto out;
	}
	s += PREFIX_LEN;
	/* 3.6.1.2: hh is two hex digits then ':' */
	if (strlen(s) < 3 || s[2] != ':' || sscanf(s, "%2x", &hh) != 1 ||
	    !((s[0] >= '0' && s[0] <= '9') && (s[1] >= '0' && s[1] <= '9'))) {
		why_ = "the hash field is not two digits and ':'";
		goto out;
	}
	if (hh > TLS_PSK_HASH_SHA384) {
		why_ = "unknown hash (hh must be 00, 01 or 02)";
		goto out;
	}
	b64 = s + 3;
	end = strchr(b64, ':');
	if (end == NULL || end[1] != '\0') {
		why_ = "does not end with ':'";
		goto out;
	}
	n = b64_decode(b64, (size_t)(end - b64), raw, sizeof(raw));
	if (n < 0) {
		why_ = "the key is not valid base64";
		goto out;
	}
	k->hash = (enum tls_psk_hash)hh;
	k->len = (size_t)n >= CRC_LEN ? (size_t)n - CRC_LEN : 0;
	if (!key_valid(k)) {
		why_ = hh == 0	 ? "the key is not 32 or 48 bytes"
		       : hh == 1 ? "a SHA-256 (01) key must be 32 bytes"
				 : "a SHA-384 (02) key must be 48 bytes";
		goto out;
	}
	if (get_le32(raw + k->len) != crc32_ieee_of(raw, k->len)) {
		why_ = "CRC-32 mismatch";
		goto out;
	}
	memcpy(k->key, raw, k->len);
	ret = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	if (ret)
		tls_psk_key_clear(k);
	if (why)
		*why = why_;
	return ret;
}

int tls_psk_format(const struct tls_psk_key *k, char *buf, size_t size)
{
	uint8_t raw[TLS_PSK_MAX_LEN + CRC_LEN];
	char tmp[TLS_PSK_INTERCHANGE_MAX + 1];
	int n;

	if (!key_valid(k))
		return -EINVAL;
	memcpy(raw, k->key, k->len);
	put_le32(raw + k->len, crc32_ieee_of(k->key, k->len));
	n = snprintf(tmp, sizeof(tmp), PREFIX "%02x:", (unsigned)k->hash);
	n += EVP_EncodeBlock((unsigned char *)tmp + n, raw, (int)(k->len + CRC_LEN));
	tmp[n++] = ':';
	tmp[n] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	if ((size_t)n >= size) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return -ENOSPC;
	}
	memcpy(buf, tmp, (size_t)n + 1);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return n;
}

/*
 * HKDF-Expand-Label(PRK, label, context, len) as kdf computes it (see the
 * header). The info of the libnvme forms is built here byte for byte, then
 * handed to plain HKDF-Expand.
 */
static int expand_label_as(enum tls_psk_kdf kdf, const char *md, const uint8_t *prk, size_t prk_len,
			   const char *label, const char *ctx_prefix, const char *context,
			   uint8_t *out, size_t len)
{
	uint8_t info[2 + 6 + 32 + 4 + TLS_PSK_IDENTITY_MAX];
	size_t pl = strlen(ctx_prefix), cl = strlen(context), ll = strlen(label), n = 0;
	int ret;

	switch (kdf) {
	case TLS_PSK_KDF_RFC8446: {
		char c[4 + TLS_PSK_IDENTITY_MAX];

		if (pl + cl > 255)
			return -ENAMETOOLONG;
		memcpy(c, ctx_prefix, pl);
		memcpy(c + pl, context, cl);
		return tls_hkdf_expand_label(md, prk, prk_len, label, (const uint8_t *)c, pl + cl,
					     out, len);
	}
	case TLS_PSK_KDF_LIBNVME_COMPAT:
		/* uint16 in host order: little-endian on every host that ran it */
		if (ll > 32 || pl + cl > TLS_PSK_IDENTITY_MAX + 3)
			return -ENAMETOOLONG;
		put_le16(info, (uint16_t)len);
		n = 2;
		memcpy(info + n, "tls13 ", 6);
		n += 6;
		memcpy(info + n, label, ll);
		n += ll;
		memcpy(info + n, ctx_prefix, pl);
		n += pl;
		memcpy(info + n, context, cl);
		n += cl;
		break;
	case TLS_PSK_KDF_LIBNVME_LAST_INFO:
		/* the context was its own last add1 call, the prefix the one before */
		if (cl > TLS_PSK_IDENTITY_MAX)
			return -ENAMETOOLONG;
		memcpy(info, context, cl);
		n = cl;
		break;
	default:
		return -EINVAL;
	}
	ret = tls_hkdf_expand(md, prk, prk_len, info, n, out, len);
	OPENSSL_cleanse(info, sizeof(info));
	return ret;
}

/* 1. PRK = HKDF-Extract(0, input); 2. out = HKDF-Expand-Label(PRK, ...) */
static int extract_expand(enum tls_psk_kdf kdf, enum tls_psk_hash h, const uint8_t *in, size_t len,
			  const char *label, const char *ctx_prefix, const char *context,
			  uint8_t *out)
{
	uint8_t prk[TLS_KDF_MAX_MD];
	const char *md = md_name(h);
	int ret;

	if (md == NULL)
		return -EINVAL;
	ret = tls_hkdf_extract(md, in, len, prk);
	if (ret == 0)
		ret = expand_label_as(kdf, md, prk, tls_psk_hash_len(h), label, ctx_prefix, context,
				      out, len);
	OPENSSL_cleanse(prk, sizeof(prk));
	return ret;
}

int tls_psk_retained(const struct tls_psk_key *k, const char *hostnqn, enum tls_psk_kdf kdf,
		     uint8_t *out)
{
	if (!key_valid(k))
		return -EINVAL;
	/* 3.6.1.3: hh 00 means the configured PSK is used as the retained PSK */
	if (k->hash == TLS_PSK_HASH_NONE) {
		memcpy(out, k->key, k->len);
		return 0;
	}
	return extract_expand(kdf, k->hash, k->key, k->len, "HostNQN", "", hostnqn, out);
}

int tls_psk_digest(enum tls_psk_hash hash, const uint8_t *retained, size_t len, const char *hostnqn,
		   const char *subnqn, char out[TLS_PSK_DIGEST_MAX + 1])
{
	const struct tls_kdf_piece pc[] = {
		{hostnqn, strlen(hostnqn)},
		{" ", 1},
		{subnqn, strlen(subnqn)},
		{" NVMe-over-Fabrics", 18},
	};
	uint8_t mac[TLS_KDF_MAX_MD];
	size_t mac_len = 0;
	int ret;

	if (md_name(hash) == NULL || len != tls_psk_hash_len(hash))
		return -EINVAL;
	ret = tls_hmac(md_name(hash), retained, len, pc, 4, mac, &mac_len);
	if (ret == 0)
		EVP_EncodeBlock((unsigned char *)out, mac, (int)mac_len);
	OPENSSL_cleanse(mac, sizeof(mac));
	return ret;
}

int tls_psk_tls_key(enum tls_psk_hash hash, const uint8_t *retained, size_t len, unsigned version,
		    const char *context, enum tls_psk_kdf kdf, uint8_t *out)
{
	char hp[4];

	if (md_name(hash) == NULL || len != tls_psk_hash_len(hash) || version > 1)
		return -EINVAL;
	/* NVMe1: PskIdentityContext is "<hash> <PSK digest>" (3.6.1.3) */
	snprintf(hp, sizeof(hp), "%02u ", (unsigned)hash);
	return extract_expand(kdf, hash, retained, len, "nvme-tls-psk", version ? hp : "", context,
			      out);
}

int tls_psk_identity_format(char *buf, size_t size, unsigned version, enum tls_psk_hash hash,
			    const char *hostnqn, const char *subnqn, const char *digest)
{
	int n;

	if (md_name(hash) == NULL || version > 1 || (version == 1 && digest == NULL))
		return -EINVAL;
	if (version == 0)
		n = snprintf(buf, size, "NVMe0R%02u %s %s", (unsigned)hash, hostnqn, subnqn);
	else
		n = snprintf(buf, size, "NVMe1R%02u %s %s %s", (unsigned)hash, hostnqn, subnqn,
			     digest);
	if (n < 0)
		return -EINVAL;
	return (size_t)n < size ? n : -ENOSPC;
}

/* Copy the space-free word at *p (up to end) into out; advance past it. */
static int take_word(const char **p, const char *end, char *out, size_t cap)
{
	const char *s = *p, *e = memchr(s, ' ', (size_t)(end - s));
	size_t n = (size_t)((e ? e : end) - s);

	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = e ? e + 1 : end;
	return 0;
}

int tls_psk_identity_parse(const char *s, size_t len, struct tls_psk_identity *id, const char **why)
{
	const char *end = s + len, *p = s + 9, *why_ = NULL;
	int ret = -EINVAL;

	memset(id, 0, sizeof(id[0]));
	if (len < 9 || len > TLS_PSK_IDENTITY_MAX || memchr(s, '\0', len) != NULL) {
		why_ = len > TLS_PSK_IDENTITY_MAX ? "identity too long" : "identity too short";
		goto out;
	}
	/* "NVMe" <version digit> <R|G> <2-digit hash> ' ' */
	if (memcmp(s, "NVMe", 4) != 0 || s[4] < '0' || s[4] > '9' || (s[5] != 'R' && s[5] != 'G') ||
	    s[6] != '0' || s[7] < '0' || s[7] > '9' || s[8] != ' ') {
		why_ = "not an NVMe PSK identity (\"NVMe<v><R|G><hh> \")";
		goto out;
	}
	id->version = (unsigned)(s[4] - '0');
	id->generated = s[5] == 'G';
	id->hash = (enum tls_psk_hash)(s[7] - '0');
	if (id->hash != TLS_PSK_HASH_SHA256 && id->hash != TLS_PSK_HASH_SHA384) {
		why_ = "identity hash is neither 01 (SHA-256) nor 02 (SHA-384)";
		goto out;
	}
	if (take_word(&p, end, id->hostnqn, sizeof(id->hostnqn)) ||
	    take_word(&p, end, id->subnqn, sizeof(id->subnqn))) {
		why_ = "identity lacks a host NQN and a subsystem NQN";
		goto out;
	}
	if (id->version == 1) {
		if (take_word(&p, end, id->digest, sizeof(id->digest)) ||
		    strlen(id->digest) != (id->hash == TLS_PSK_HASH_SHA256 ? 44u : 64u)) {
			why_ = "NVMe1 identity without a digest of the hash's length";
			goto out;
		}
	}
	if (p != end || s[len - 1] == ' ') {
		why_ = id->version == 0 ? "NVMe0 identity with more than two NQNs"
					: "NVMe1 identity with trailing fields";
		goto out;
	}
	if (id->version > 1 || id->generated) {
		why_ = id->generated ? "generated-PSK identities (secure concatenation) "
				       "are not supported"
				     : "identity version above 1";
		ret = -EOPNOTSUPP;
		goto out;
	}
	ret = 0;
out:
	if (why)
		*why = why_;
	return ret;
}

int tls_psk_host_derive(const struct tls_psk_key *k, const char *hostnqn, const char *subnqn,
			unsigned version, enum tls_psk_kdf kdf, char *identity, size_t size,
			uint8_t tls_psk[TLS_PSK_MAX_LEN])
{
	enum tls_psk_hash h = tls_psk_key_cipher_hash(k);
	char digest[TLS_PSK_DIGEST_MAX + 1] = "";
	uint8_t retained[TLS_PSK_MAX_LEN];
	int ret;

	if (version > 1)
		return -EINVAL;
	ret = tls_psk_retained(k, hostnqn, kdf, retained);
	if (ret == 0 && version == 1)
		ret = tls_psk_digest(h, retained, k->len, hostnqn, subnqn, digest);
	if (ret == 0) {
		ret = tls_psk_identity_format(identity, size, version, h, hostnqn, subnqn, digest);
		ret = ret < 0 ? ret : 0;
	}
	if (ret == 0)
		ret = tls_psk_tls_key(h, retained, k->len, version, version ? digest : identity,
				      kdf, tls_psk);
	OPENSSL_cleanse(retained, sizeof(retained));
	return ret;
}

/*
 * For an NVMe1 identity: the derivation whose digest matches the received
 * one, leaving its retained PSK in retained. -EKEYREJECTED if none does.
 */
static int match_digest(const struct tls_psk_identity *id, const struct tls_psk_key *k,
			enum tls_psk_kdf *kdf, uint8_t *retained)
{
	char digest[TLS_PSK_DIGEST_MAX + 1] = "";
	/* With hh 00 the retained PSK, so the digest, is the same for all. */
	int n = k->hash == TLS_PSK_HASH_NONE ? 1 : TLS_PSK_KDF_COUNT;

	for (int i = 0; i < n; i++) {
		enum tls_psk_kdf f = n == 1 ? *kdf : (enum tls_psk_kdf)((*kdf + i) % n);
		int ret = tls_psk_retained(k, id->hostnqn, f, retained);

		if (ret == 0)
			ret = tls_psk_digest(id->hash, retained, k->len, id->hostnqn, id->subnqn,
					     digest);
		if (ret)
			return ret;
		if (CRYPTO_memcmp(digest, id->digest, strlen(id->digest) + 1) == 0) {
			*kdf = f;
			return 0;
		}
	}
	return -EKEYREJECTED;
}

int tls_psk_resolve(const char *identity, size_t len, tls_psk_lookup_fn lookup, void *arg,
		    struct tls_psk_resolved *out, const char **why)
{
	uint8_t retained[TLS_PSK_MAX_LEN];
	enum tls_psk_kdf kdf = TLS_PSK_KDF_RFC8446;
	struct tls_psk_key k = {0};
	char ctx[TLS_PSK_IDENTITY_MAX + 1];
	const char *why_ = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = tls_psk_identity_parse(identity, len, &out->id, &why_);
	if (ret)
		goto out;
	ret = lookup(arg, out->id.hostnqn, out->id.subnqn, &k, &kdf);
	if (ret) {
		why_ = ret == -ENOKEY ? "no PSK configured for this host" : "PSK lookup failed";
		goto out;
	}
	ret = -EKEYREJECTED;
	if (!key_valid(&k) || (unsigned)kdf >= TLS_PSK_KDF_COUNT) {
		why_ = "the configured PSK is invalid";
		ret = -EINVAL;
		goto out;
	}
	if (tls_psk_key_cipher_hash(&k) != out->id.hash) {
		why_ = "identity hash does not match the configured PSK";
		goto out;
	}
	if (out->id.version == 1)
		ret = match_digest(&out->id, &k, &kdf, retained);
	else
		ret = tls_psk_retained(&k, out->id.hostnqn, kdf, retained);
	if (ret) {
		why_ = ret == -EKEYREJECTED ? "PSK digest does not match the configured PSK"
					    : "retained PSK derivation failed";
		goto out;
	}
	/* version 0: the context is the identity itself, as received */
	memcpy(ctx, identity, len);
	ctx[len] = '\0';
	ret = tls_psk_tls_key(out->id.hash, retained, k.len, out->id.version,
			      out->id.version ? out->id.digest : ctx, kdf, out->psk);
	if (ret) {
		why_ = "TLS PSK derivation failed";
		goto out;
	}
	out->kdf = kdf;
	out->len = k.len;
out:
	OPENSSL_cleanse(retained, sizeof(retained));
	OPENSSL_cleanse(ctx, sizeof(ctx));
	tls_psk_key_clear(&k);
	if (ret)
		tls_psk_resolved_clear(out);
	if (why)
		*why = why_;
	return ret;
}

void tls_psk_key_clear(struct tls_psk_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

void tls_psk_resolved_clear(struct tls_psk_resolved *r)
{
	OPENSSL_cleanse(r->psk, sizeof(r->psk));
	r->len = 0;
}
