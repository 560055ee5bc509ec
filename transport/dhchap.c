/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DH-HMAC-CHAP computations on OpenSSL 3 (NVMe Base Specification 2.0,
 * 8.13.5). Every secret and intermediate is cleansed before return.
 */
#include "dhchap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "byteorder.h"

struct dhchap_dh {
	EVP_PKEY *pkey;
	uint8_t dhgid;
};

static const char *digest_name(uint8_t hashid)
{
	switch (hashid) {
	case NVMF_DHCHAP_HASH_SHA256:
		return "SHA256";
	case NVMF_DHCHAP_HASH_SHA384:
		return "SHA384";
	case NVMF_DHCHAP_HASH_SHA512:
		return "SHA512";
	}
	return NULL;
}

static const char *group_name(uint8_t dhgid)
{
	switch (dhgid) {
	case NVMF_DHCHAP_DHGROUP_FFDHE2048:
		return "ffdhe2048";
	case NVMF_DHCHAP_DHGROUP_FFDHE3072:
		return "ffdhe3072";
	case NVMF_DHCHAP_DHGROUP_FFDHE4096:
		return "ffdhe4096";
	case NVMF_DHCHAP_DHGROUP_FFDHE6144:
		return "ffdhe6144";
	case NVMF_DHCHAP_DHGROUP_FFDHE8192:
		return "ffdhe8192";
	}
	return NULL;
}

int dhchap_hmac(uint8_t hashid, const void *key, size_t key_len, const struct iovec *iov,
		int iovcnt, uint8_t *out)
{
	const char *md = digest_name(hashid);
	OSSL_PARAM params[2];
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	size_t outl = 0;
	int ret = -EIO;

	if (md == NULL)
		return -EINVAL;
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac == NULL)
		return -EIO;
	ctx = EVP_MAC_CTX_new(mac);
	if (ctx == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, key_len, params))
		goto out;
	for (int i = 0; i < iovcnt; i++)
		if (!EVP_MAC_update(ctx, iov[i].iov_base, iov[i].iov_len))
			goto out;
	if (!EVP_MAC_final(ctx, out, &outl, NVMF_DHCHAP_HASH_MAX) ||
	    outl != dhchap_hash_len(hashid))
		goto out;
	ret = 0;
out:
	/* The context holds the keyed pads: EVP_MAC_CTX_free cleanses them. */
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ret;
}

int dhchap_hash(uint8_t hashid, const void *data, size_t len, uint8_t *out)
{
	const char *md = digest_name(hashid);
	unsigned int outl = 0;

	if (md == NULL)
		return -EINVAL;
	if (!EVP_Digest(data, len, out, &outl, EVP_get_digestbyname(md), NULL) ||
	    outl != dhchap_hash_len(hashid))
		return -EIO;
	return 0;
}

/* Either response: the label and the order of the two NQNs differ. */
static int response(const struct dhchap_resp_args *a, const char *label, const char *nqn1,
		    const char *nqn2, uint8_t *out)
{
	uint8_t seq[4], tid[2], sc_c = a->sc_c, zero = 0;
	const struct iovec iov[] = {
		{(void *)a->chal, dhchap_hash_len(a->hashid)},
		{seq, sizeof(seq)},
		{tid, sizeof(tid)},
		{&sc_c, 1},
		{(void *)label, strlen(label)},
		{(void *)nqn1, strlen(nqn1)},
		{&zero, 1},
		{(void *)nqn2, strlen(nqn2)},
	};

	if (dhchap_hash_len(a->hashid) == 0)
		return -EINVAL;
	put_le32(seq, a->seqnum);
	put_le16(tid, a->t_id);
	return dhchap_hmac(a->hashid, a->tkey, a->tkey_len, iov, sizeof(iov) / sizeof(iov[0]), out);
}

int dhchap_host_response(const struct dhchap_resp_args *a, uint8_t *out)
{
	return response(a, "HostHost", a->hostnqn, a->subsysnqn, out);
}

int dhchap_ctrl_response(const struct dhchap_resp_args *a, uint8_t *out)
{
	return response(a, "Controller", a->subsysnqn, a->hostnqn, out);
}

int dhchap_augmented_challenge(uint8_t hashid, const uint8_t *secret, size_t secret_len,
			       const uint8_t *chal, uint8_t *out)
{
	uint8_t hkey[NVMF_DHCHAP_HASH_MAX];
	size_t hl = dhchap_hash_len(hashid);
	struct iovec iov = {(void *)chal, hl};
	int ret;

	ret = dhchap_hash(hashid, secret, secret_len, hkey);
	if (ret == 0)
		ret = dhchap_hmac(hashid, hkey, hl, &iov, 1, out);
	OPENSSL_cleanse(hkey, sizeof(hkey));
	return ret;
}

int dhchap_response_challenge(uint8_t hashid, const uint8_t *secret, size_t secret_len,
			      const uint8_t *chal, uint8_t *out)
{
	if (dhchap_hash_len(hashid) == 0)
		return -EINVAL;
	if (secret_len == 0) {
		memcpy(out, chal, dhchap_hash_len(hashid));
		return 0;
	}
	return dhchap_augmented_challenge(hashid, secret, secret_len, chal, out);
}

bool dhchap_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int dhchap_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

int dhchap_random_seqnum(uint32_t *seq)
{
	do {
		if (dhchap_random(seq, sizeof(*seq)))
			return -EIO;
	} while (*seq == 0);
	return 0;
}

/* ---- Diffie-Hellman ---- */

int dhchap_dh_generate(uint8_t dhgid, struct dhchap_dh **out)
{
	const char *name = group_name(dhgid);
	OSSL_PARAM params[2];
	EVP_PKEY_CTX *ctx;
	struct dhchap_dh *dh;
	int ret = -EIO;

	*out = NULL;
	if (name == NULL)
		return -EINVAL;
	dh = calloc(1, sizeof(*dh));
	if (dh == NULL)
		return -ENOMEM;
	dh->dhgid = dhgid;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	if (ctx == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)name, 0);
	params[1] = OSSL_PARAM_construct_end();
	/*
	 * OpenSSL picks a private exponent of twice the group's security
	 * strength for these named groups, as RFC 7919 5.2 allows.
	 */
	if (EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_CTX_set_params(ctx, params) <= 0 ||
	    EVP_PKEY_generate(ctx, &dh->pkey) <= 0)
		goto out;
	*out = dh;
	dh = NULL;
	ret = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	dhchap_dh_free(dh);
	return ret;
}

int dhchap_dh_public(const struct dhchap_dh *dh, uint8_t *out, size_t len)
{
	BIGNUM *pub = NULL;
	int ret = -EIO;

	if (len != dhchap_dhgroup_len(dh->dhgid))
		return -EINVAL;
	if (!EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, &pub))
		return -EIO;
	if (BN_bn2binpad(pub, out, (int)len) == (int)len)
		ret = 0;
	BN_free(pub);
	return ret;
}

/* 1 < y < p - 1 (NIST SP 800-56A 5.6.2.3.1): y is not 0, 1 or p - 1. */
static int peer_in_range(const struct dhchap_dh *dh, const BIGNUM *y)
{
	BIGNUM *p = NULL, *pm1 = NULL;
	int ok = 0;

	if (!EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_FFC_P, &p))
		return 0;
	pm1 = BN_dup(p);
	if (pm1 && BN_sub_word(pm1, 1))
		ok = BN_cmp(y, BN_value_one()) > 0 && BN_cmp(y, pm1) < 0;
	BN_free(pm1);
	BN_free(p);
	return ok;
}

/* The peer's value as an EVP_PKEY of our group, or NULL. */
static EVP_PKEY *peer_key(const struct dhchap_dh *dh, const BIGNUM *y)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *peer = NULL;

	if (bld == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group_name(dh->dhgid),
					     0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		peer = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return peer;
}

int dhchap_dh_derive(const struct dhchap_dh *dh, const uint8_t *peer, size_t len, uint8_t *secret)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *y;
	size_t outl = len;
	int ret = -EBADMSG;

	if (len != dhchap_dhgroup_len(dh->dhgid))
		return -EINVAL;
	y = BN_bin2bn(peer, (int)len, NULL);
	if (y == NULL)
		return -ENOMEM;
	if (!peer_in_range(dh, y))
		goto out;
	pk = peer_key(dh, y);
	if (pk == NULL)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL);
	if (ctx == NULL || EVP_PKEY_derive_init(ctx) <= 0) {
		ret = -EIO;
		goto out;
	}
	/*
	 * validate_peer = 1: EVP_PKEY_public_check, the full check for a named
	 * safe-prime group. Padding: the secret is the group-size big-endian
	 * string the Linux kernel's KPP produces, leading zeroes kept.
	 */
	if (EVP_PKEY_derive_set_peer_ex(ctx, pk, 1) <= 0)
		goto out;
	if (EVP_PKEY_CTX_set_dh_pad(ctx, 1) <= 0 || EVP_PKEY_derive(ctx, secret, &outl) <= 0 ||
	    outl != len) {
		OPENSSL_cleanse(secret, len);
		ret = -EIO;
		goto out;
	}
	ret = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	BN_free(y);
	return ret;
}

void dhchap_dh_free(struct dhchap_dh *dh)
{
	if (dh == NULL)
		return;
	/* EVP_PKEY_free clears the private BIGNUM (BN_clear_free). */
	EVP_PKEY_free(dh->pkey);
	OPENSSL_cleanse(dh, sizeof(*dh));
	free(dh);
}
