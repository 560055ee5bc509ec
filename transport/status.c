/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe status names: NVMe Base Specification 2.0 (Figures 102-105), NVM
 * Command Set Specification 1.0 (Figure 20) and NVMe over Fabrics 1.1
 * (Figure 21).
 */
#include "status.h"

#include <stddef.h>
#include <stdio.h>

struct status_name {
	uint8_t sc;
	const char *name;
};

/* Figure 102: Generic Command Status, plus the NVM command set's 80h-84h. */
static const struct status_name generic[] = {
	{NVME_SC_SUCCESS, "Success"},
	{NVME_SC_INVALID_OPCODE, "Invalid Command Opcode"},
	{NVME_SC_INVALID_FIELD, "Invalid Field in Command"},
	{NVME_SC_CID_CONFLICT, "Command ID Conflict"},
	{NVME_SC_DATA_XFER_ERROR, "Data Transfer Error"},
	{NVME_SC_POWER_LOSS, "Commands Aborted due to Power Loss Notification"},
	{NVME_SC_INTERNAL, "Internal Error"},
	{NVME_SC_ABORT_REQ, "Command Abort Requested"},
	{NVME_SC_ABORT_SQ_DELETED, "Command Aborted due to SQ Deletion"},
	{NVME_SC_FUSED_FAIL, "Command Aborted due to Failed Fused Command"},
	{NVME_SC_FUSED_MISSING, "Command Aborted due to Missing Fused Command"},
	{NVME_SC_INVALID_NS, "Invalid Namespace or Format"},
	{NVME_SC_CMD_SEQ_ERROR, "Command Sequence Error"},
	{NVME_SC_SGL_INVALID_LAST, "Invalid SGL Segment Descriptor"},
	{NVME_SC_SGL_INVALID_COUNT, "Invalid Number of SGL Descriptors"},
	{NVME_SC_SGL_INVALID_DATA, "Data SGL Length Invalid"},
	{NVME_SC_SGL_INVALID_METADATA, "Metadata SGL Length Invalid"},
	{NVME_SC_SGL_INVALID_TYPE, "SGL Descriptor Type Invalid"},
	{NVME_SC_CMB_INVALID_USE, "Invalid Use of Controller Memory Buffer"},
	{NVME_SC_PRP_INVALID_OFFSET, "PRP Offset Invalid"},
	{0x14, "Atomic Write Unit Exceeded"},
	{0x15, "Operation Denied"},
	{NVME_SC_SGL_INVALID_OFFSET, "SGL Offset Invalid"},
	{NVME_SC_HOST_ID_INCONSIST, "Host Identifier Inconsistent Format"},
	{NVME_SC_KA_TIMEOUT_EXPIRED, "Keep Alive Timer Expired"},
	{NVME_SC_KA_TIMEOUT_INVALID, "Keep Alive Timeout Invalid"},
	{NVME_SC_ABORTED_PREEMPT_ABORT, "Command Aborted due to Preempt and Abort"},
	{NVME_SC_SANITIZE_FAILED, "Sanitize Failed"},
	{NVME_SC_SANITIZE_IN_PROGRESS, "Sanitize In Progress"},
	{0x1e, "SGL Data Block Granularity Invalid"},
	{0x1f, "Command Not Supported for Queue in CMB"},
	{NVME_SC_NS_WRITE_PROTECTED, "Namespace is Write Protected"},
	{NVME_SC_CMD_INTERRUPTED, "Command Interrupted"},
	{NVME_SC_TRANSIENT_TR_ERR, "Transient Transport Error"},
	{0x23, "Command Prohibited by Command and Feature Lockdown"},
	{NVME_SC_ADMIN_CMD_MEDIA_NOT_READY, "Admin Command Media Not Ready"},
	{0x29, "I/O Command Set Not Supported"},
	{0x2a, "I/O Command Set Not Enabled"},
	{0x2b, "I/O Command Set Combination Rejected"},
	{NVME_SC_INVALID_IO_CMD_SET, "Invalid I/O Command Set"},
	{NVME_SC_LBA_RANGE, "LBA Out of Range"},
	{NVME_SC_CAP_EXCEEDED, "Capacity Exceeded"},
	{NVME_SC_NS_NOT_READY, "Namespace Not Ready"},
	{NVME_SC_RESERVATION_CONFLICT, "Reservation Conflict"},
	{NVME_SC_FORMAT_IN_PROGRESS, "Format In Progress"},
};

/* Figure 103: Command Specific Status values common to every command kind. */
static const struct status_name cmd_specific[] = {
	{NVME_SC_CQ_INVALID, "Completion Queue Invalid"},
	{NVME_SC_QID_INVALID, "Invalid Queue Identifier"},
	{NVME_SC_QUEUE_SIZE, "Invalid Queue Size"},
	{NVME_SC_ABORT_LIMIT, "Abort Command Limit Exceeded"},
	{NVME_SC_ASYNC_LIMIT, "Asynchronous Event Request Limit Exceeded"},
	{NVME_SC_FIRMWARE_SLOT, "Invalid Firmware Slot"},
	{0x07, "Invalid Firmware Image"},
	{0x08, "Invalid Interrupt Vector"},
	{NVME_SC_INVALID_LOG_PAGE, "Invalid Log Page"},
	{NVME_SC_INVALID_FORMAT, "Invalid Format"},
	{0x0b, "Firmware Activation Requires Conventional Reset"},
	{0x0c, "Invalid Queue Deletion"},
	{NVME_SC_FEATURE_NOT_SAVEABLE, "Feature Identifier Not Saveable"},
	{NVME_SC_FEATURE_NOT_CHANGEABLE, "Feature Not Changeable"},
	{NVME_SC_FEATURE_NOT_PER_NS, "Feature Not Namespace Specific"},
	{0x10, "Firmware Activation Requires NVM Subsystem Reset"},
	{0x11, "Firmware Activation Requires Controller Level Reset"},
	{0x12, "Firmware Activation Requires Maximum Time Violation"},
	{0x13, "Firmware Activation Prohibited"},
	{0x14, "Overlapping Range"},
	{0x15, "Namespace Insufficient Capacity"},
	{0x16, "Namespace Identifier Unavailable"},
	{0x18, "Namespace Already Attached"},
	{0x19, "Namespace Is Private"},
	{0x1a, "Namespace Not Attached"},
	{0x1b, "Thin Provisioning Not Supported"},
	{NVME_SC_CTRL_LIST_INVALID, "Controller List Invalid"},
	{0x1d, "Device Self-test In Progress"},
	{0x1e, "Boot Partition Write Prohibited"},
	{NVME_SC_INVALID_CTRL_ID, "Invalid Controller Identifier"},
	{0x20, "Invalid Secondary Controller State"},
	{0x21, "Invalid Number of Controller Resources"},
	{0x22, "Invalid Resource Identifier"},
	{0x23, "Sanitize Prohibited While Persistent Memory Region is Enabled"},
	{0x24, "ANA Group Identifier Invalid"},
	{0x25, "ANA Attach Failed"},
	/* NVMe-oF 1.1 Figure 21: meaningful for any Get Log Page / command. */
	{NVME_SC_DISCOVERY_RESTART, "Discover Restart"},
	{NVME_SC_AUTH_REQUIRED, "Authentication Required"},
};

/* NVM Command Set 1.0 Figure 20: command specific values of I/O commands. */
static const struct status_name nvm_specific[] = {
	{NVME_SC_BAD_ATTRIBUTES, "Conflicting Attributes"},
	{NVME_SC_INVALID_PI, "Invalid Protection Information"},
	{NVME_SC_READ_ONLY, "Attempted Write to Read Only Range"},
	{0x83, "Command Size Limit Exceeded"},
};

/* NVMe-oF 1.1 Figure 21: the same 80h-85h for Fabrics commands. */
static const struct status_name fabrics_specific[] = {
	{NVME_SC_CONNECT_FORMAT, "Connect Incompatible Format"},
	{NVME_SC_CONNECT_CTRL_BUSY, "Connect Controller Busy"},
	{NVME_SC_CONNECT_INVALID_PARAM, "Connect Invalid Parameters"},
	{NVME_SC_CONNECT_RESTART_DISC, "Connect Restart Discovery"},
	{NVME_SC_CONNECT_INVALID_HOST, "Connect Invalid Host"},
	{NVME_SC_DISCONNECT_INVALID_QTYPE, "Invalid Queue Type"},
};

/* Figure 104: Media and Data Integrity Errors. */
static const struct status_name media[] = {
	{NVME_SC_WRITE_FAULT, "Write Fault"},
	{NVME_SC_READ_ERROR, "Unrecovered Read Error"},
	{NVME_SC_GUARD_CHECK, "End-to-end Guard Check Error"},
	{NVME_SC_APPTAG_CHECK, "End-to-end Application Tag Check Error"},
	{NVME_SC_REFTAG_CHECK, "End-to-end Reference Tag Check Error"},
	{NVME_SC_COMPARE_FAILED, "Compare Failure"},
	{NVME_SC_ACCESS_DENIED, "Access Denied"},
	{NVME_SC_UNWRITTEN_BLOCK, "Deallocated or Unwritten Logical Block"},
	{0x88, "End-to-end Storage Tag Check Error"},
};

/* Figure 105: Path Related Status. */
static const struct status_name path[] = {
	{0x00, "Internal Path Error"},
	{0x01, "Asymmetric Access Persistent Loss"},
	{0x02, "Asymmetric Access Inaccessible"},
	{0x03, "Asymmetric Access Transition"},
	{0x60, "Controller Pathing Error"},
	{0x70, "Host Pathing Error"},
	{0x71, "Command Aborted By Host"},
};

#define LOOKUP(table, sc) lookup(table, sizeof(table) / sizeof((table)[0]), sc)

static const char *lookup(const struct status_name *t, size_t n, uint8_t sc)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].sc == sc)
			return t[i].name;
	return NULL;
}

enum nvme_status_ctx nvme_status_ctx_of(const struct nvme_sqe *sqe, bool admin_queue)
{
	/* The Fabrics opcode is the same on admin and I/O queues. */
	if (sqe->opc == NVME_ADM_FABRICS)
		return NVME_STATUS_CTX_FABRICS;
	return admin_queue ? NVME_STATUS_CTX_ADMIN : NVME_STATUS_CTX_IO;
}

static const char *cmd_specific_name(uint8_t sc, enum nvme_status_ctx ctx)
{
	if (sc >= 0x80 && sc <= 0x85) {
		if (ctx == NVME_STATUS_CTX_FABRICS)
			return LOOKUP(fabrics_specific, sc);
		if (ctx == NVME_STATUS_CTX_IO)
			return LOOKUP(nvm_specific, sc);
		return NULL;
	}
	return LOOKUP(cmd_specific, sc);
}

const char *nvme_status_name(nvme_status_t status, enum nvme_status_ctx ctx)
{
	uint8_t sc = NVME_STATUS_SC(status);

	switch (NVME_STATUS_SCT(status)) {
	case NVME_SCT_GENERIC:
		return LOOKUP(generic, sc);
	case NVME_SCT_COMMAND_SPECIFIC:
		return cmd_specific_name(sc, ctx);
	case NVME_SCT_MEDIA:
		return LOOKUP(media, sc);
	case NVME_SCT_PATH:
		return LOOKUP(path, sc);
	case NVME_SCT_VENDOR:
		return "Vendor Specific";
	default:
		return NULL;
	}
}

const char *nvme_status_str_ctx(nvme_status_t status, enum nvme_status_ctx ctx)
{
	static __thread char ring[4][112];
	static __thread unsigned int next;
	char *buf = ring[next++ % 4];
	const char *name = nvme_status_name(status, ctx);

	snprintf(buf, sizeof(ring[0]), "%s (sct %u sc 0x%02x)", name ? name : "Unknown status",
		 NVME_STATUS_SCT(status), NVME_STATUS_SC(status));
	return buf;
}

const char *nvme_status_str(nvme_status_t status)
{
	return nvme_status_str_ctx(status, NVME_STATUS_CTX_IO);
}

const char *nvme_status_str_fabrics(nvme_status_t status)
{
	return nvme_status_str_ctx(status, NVME_STATUS_CTX_FABRICS);
}
