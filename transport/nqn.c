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

#include <openssl/evp.h>
#include <openssl/hmac.h>

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

	unsigned int maclen = 0;

	/* systemd's app-specific ID: HMAC-SHA256(machine ID, app ID) (OpenSSL's) */
	if (read_line(machine_id_path, line, sizeof(line)) && parse_machine_id(line, mid) &&
	    HMAC(EVP_sha256(), mid, sizeof(mid), nvmfd_app_id, sizeof(nvmfd_app_id), mac,
		 &maclen) != NULL) {
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
