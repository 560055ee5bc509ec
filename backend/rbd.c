/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ceph RBD images (librbd): path = rbd:POOL/IMAGE or rbd:POOL/NAMESPACE/IMAGE.
 *
 * One image handle per worker. librbd completes an aio on its own threads;
 * with rbd_set_image_notification() it queues the finished completion on
 * the handle and bumps an eventfd instead of calling a callback. Each
 * worker's handle has its own eventfd, read by an IORING_OP_READ on that
 * worker's ring (user_data: the handle | the caller's event tag), so the
 * CQE wakes the worker that submitted, which collects its completions with
 * rbd_poll_io_events() and finishes the commands itself: no thread of ours
 * in between, no lock, and the completions of one worker never wait for
 * another. One shared handle would have one eventfd: whichever worker read
 * it would have to pass the others' completions on, a hop per I/O.
 *
 * The eventfd read is armed only while the handle has aios outstanding
 * (after the aio is issued: the eventfd keeps the count of what finished
 * meanwhile), so a drained namespace, which main closes, has no SQE
 * naming it.
 *
 * What the namespace promises, and so how the cluster is used:
 *  - librbd's client cache is off (rbd_cache = false): a write is
 *    acknowledged once the OSDs have it, so it is durable (FUA needs
 *    nothing more, Flush is rbd_aio_flush, a no-op without cache) and is
 *    readable at once through every other handle: the other workers' and
 *    other gateways'. A cache is per handle and not coherent between them,
 *    so write-back (or a read cache) would let a host read stale data on
 *    another queue. An image whose metadata turns the cache on
 *    (conf_rbd_cache) is refused.
 *  - the exclusive lock is never taken: several gateways (and our handles)
 *    write the image at once. An image with the exclusive-lock feature is
 *    refused for writing: librbd would pass the lock from handle to handle
 *    on every write, and a gateway killed while holding it stalls the next
 *    writer for the lock's timeout and gets it blocklisted. Read-only
 *    namespaces open such images (reads take no lock).
 *  - Deallocate reads back as zeroes: rbd_skip_partial_discard = false, so
 *    discard zeroes what it cannot free instead of skipping it.
 *  - no command hangs when the cluster is unreachable: unless ceph.conf
 *    sets them, operations time out (rados_osd_op_timeout,
 *    rados_mon_op_timeout: 20 s, under the Linux host's 30 s I/O timeout)
 *    and connecting gives up after 15 s (client_mount_timeout) instead of
 *    Ceph's 300; a timed-out command fails with -ETIMEDOUT.
 *
 * Clusters: one librados connection per (ceph_conf, ceph_id, ceph_keyring)
 * shared by every namespace on it (a connection is a dozen threads and a
 * monitor session), opened by the first such namespace, shut down with the
 * last. Opens and closes run on main only; the mutex is for safety.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "backend.h"

#define RBD_POLL_BATCH	       32
#define RBD_OP_TIMEOUT	       "20"
#define RBD_MOUNT_TIMEOUT      "15"
#define RBD_CEPH_MOUNT_DEFAULT 300.0

struct rbd_cluster {
	struct rbd_cluster *next;
	int refs;
	char *conf, *id, *keyring; /* as given ("" = default) */
	rados_t rados;
};

/* One worker's handle on the image. */
struct rbd_queue {
	struct be_event ev; /* first: the CQE's pointer is the queue */
	rbd_image_t image;
	int efd;
	uint64_t efd_val;      /* the eventfd read lands here */
	struct io_uring *ring; /* the worker's, as its last submit said */
	uint8_t tag;
	bool armed;
	uint32_t inflight;
} __attribute__((aligned(64)));

struct rbd_ns {
	struct rbd_cluster *cl;
	rados_ioctx_t ioctx;
	bool have_ioctx;
	unsigned int nq;
	struct rbd_queue *q; /* [nq], 64-byte aligned */
};

static pthread_mutex_t clusters_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rbd_cluster *clusters;

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

/* Set key to value unless the configuration changed it from Ceph's default. */
static int conf_default(rados_t r, const char *key, double ceph_default, const char *value)
{
	char cur[64];

	if (rados_conf_get(r, key, cur, sizeof(cur)) != 0 || strtod(cur, NULL) != ceph_default)
		return 0;
	return rados_conf_set(r, key, value);
}

static int cluster_connect(struct rbd_cluster *cl, char *why, size_t whylen)
{
	static const char *const fixed[][2] = {
		{"rbd_cache", "false"},
		{"rbd_skip_partial_discard", "false"},
	};
	const char *step;
	int ret;

	ret = rados_create(&cl->rados, cl->id[0] ? cl->id : NULL);
	if (ret < 0) {
		snprintf(why, whylen, "rados_create(client.%s): %s", cl->id[0] ? cl->id : "admin",
			 strerror(-ret));
		return ret;
	}
	ret = rados_conf_read_file(cl->rados, cl->conf[0] ? cl->conf : NULL);
	if (ret < 0) {
		snprintf(why, whylen, "reading %s: %s",
			 cl->conf[0] ? cl->conf : "the Ceph configuration (/etc/ceph/ceph.conf)",
			 strerror(-ret));
		goto fail;
	}
	step = "keyring";
	if (cl->keyring[0] && (ret = rados_conf_set(cl->rados, "keyring", cl->keyring)) < 0)
		goto fail_set;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		step = fixed[i][0];
		ret = rados_conf_set(cl->rados, fixed[i][0], fixed[i][1]);
		if (ret < 0)
			goto fail_set;
	}
	step = "timeouts";
	if ((ret = conf_default(cl->rados, "rados_osd_op_timeout", 0, RBD_OP_TIMEOUT)) < 0 ||
	    (ret = conf_default(cl->rados, "rados_mon_op_timeout", 0, RBD_OP_TIMEOUT)) < 0 ||
	    (ret = conf_default(cl->rados, "client_mount_timeout", RBD_CEPH_MOUNT_DEFAULT,
				RBD_MOUNT_TIMEOUT)) < 0)
		goto fail_set;
	/* librados says only "No such file or directory" for a keyring it cannot read */
	if (cl->keyring[0] && access(cl->keyring, R_OK) != 0) {
		ret = -errno;
		snprintf(why, whylen, "ceph_keyring %s: %s", cl->keyring, strerror(-ret));
		goto fail;
	}
	ret = rados_connect(cl->rados);
	if (ret < 0) {
		int n = snprintf(why, whylen, "connecting to the Ceph cluster as client.%s: %s",
				 cl->id[0] ? cl->id : "admin", strerror(-ret));

		/* cephx: the monitors refused the key (wrong, revoked, another
		 * client's) or the keyring has none for this client */
		if (ret == -EACCES && n > 0 && (size_t)n < whylen && cl->keyring[0])
			snprintf(why + n, whylen - (size_t)n,
				 " (the monitors refused its key in %s)", cl->keyring);
		else if (ret == -EACCES && n > 0 && (size_t)n < whylen)
			snprintf(
				why + n, whylen - (size_t)n,
				" (no key of its own in the keyring Ceph's configuration names, or "
				"one the monitors refused: set ceph_keyring)");
		goto fail;
	}
	return 0;
fail_set:
	snprintf(why, whylen, "setting %s: %s", step, strerror(-ret));
fail:
	rados_shutdown(cl->rados);
	return ret;
}

static void cluster_free(struct rbd_cluster *cl)
{
	free(cl->conf);
	free(cl->id);
	free(cl->keyring);
	free(cl);
}

static struct rbd_cluster *cluster_get(const struct be_ceph *ceph, int *err, char *why,
				       size_t whylen)
{
	const char *conf = or_empty(ceph ? ceph->conf : NULL);
	const char *id = or_empty(ceph ? ceph->id : NULL);
	const char *keyring = or_empty(ceph ? ceph->keyring : NULL);
	struct rbd_cluster *cl;

	pthread_mutex_lock(&clusters_lock);
	for (cl = clusters; cl != NULL; cl = cl->next) {
		if (strcmp(cl->conf, conf) == 0 && strcmp(cl->id, id) == 0 &&
		    strcmp(cl->keyring, keyring) == 0) {
			cl->refs++;
			pthread_mutex_unlock(&clusters_lock);
			return cl;
		}
	}
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL || (cl->conf = strdup(conf)) == NULL || (cl->id = strdup(id)) == NULL ||
	    (cl->keyring = strdup(keyring)) == NULL) {
		if (cl != NULL)
			cluster_free(cl);
		pthread_mutex_unlock(&clusters_lock);
		*err = -ENOMEM;
		return NULL;
	}
	*err = cluster_connect(cl, why, whylen);
	if (*err != 0) {
		cluster_free(cl);
		pthread_mutex_unlock(&clusters_lock);
		return NULL;
	}
	cl->refs = 1;
	cl->next = clusters;
	clusters = cl;
	pthread_mutex_unlock(&clusters_lock);
	return cl;
}

static void cluster_put(struct rbd_cluster *cl)
{
	struct rbd_cluster **pp;

	pthread_mutex_lock(&clusters_lock);
	if (--cl->refs > 0) {
		pthread_mutex_unlock(&clusters_lock);
		return;
	}
	for (pp = &clusters; *pp != cl; pp = &(*pp)->next)
		;
	*pp = cl->next;
	pthread_mutex_unlock(&clusters_lock);
	rados_shutdown(cl->rados);
	cluster_free(cl);
}

/* "rbd:POOL/IMAGE" or "rbd:POOL/NAMESPACE/IMAGE" into its parts. */
static int parse_path(const char *path, char *pool, char *nspace, char *image, size_t len)
{
	const char *s = path + 4, *a = strchr(s, '/'), *b;

	if (a == NULL || a == s)
		return -EINVAL;
	b = strchr(a + 1, '/');
	if ((size_t)(a - s) >= len)
		return -ENAMETOOLONG;
	snprintf(pool, len, "%.*s", (int)(a - s), s);
	nspace[0] = '\0';
	if (b != NULL) {
		if (b == a + 1 || (size_t)(b - a - 1) >= len)
			return -EINVAL;
		snprintf(nspace, len, "%.*s", (int)(b - a - 1), a + 1);
		a = b;
	}
	if (a[1] == '\0' || strchr(a + 1, '/') != NULL || strlen(a + 1) >= len)
		return -EINVAL;
	snprintf(image, len, "%s", a + 1);
	return 0;
}

/* Whether the image's effective configuration turns librbd's cache on. */
static int cache_on(rbd_image_t image, bool *on)
{
	rbd_config_option_t *opts = NULL;
	int n = 64, ret;

	*on = false;
	for (;;) {
		opts = calloc((size_t)n, sizeof(*opts));
		if (opts == NULL)
			return -ENOMEM;
		ret = rbd_config_image_list(image, opts, &n);
		if (ret != -ERANGE)
			break;
		free(opts);
	}
	if (ret < 0) {
		free(opts);
		return ret;
	}
	for (int i = 0; i < n; i++)
		if (strcmp(opts[i].name, "rbd_cache") == 0)
			*on = strcmp(opts[i].value, "true") == 0;
	rbd_config_image_list_cleanup(opts, n);
	free(opts);
	return 0;
}

static void rbd_close_ns(struct be_ns *ns)
{
	struct rbd_ns *rn = ns->priv;

	if (rn == NULL)
		return;
	for (unsigned int i = 0; i < rn->nq; i++) {
		struct rbd_queue *q = &rn->q[i];

		if (q->image != NULL)
			rbd_close(q->image);
		if (q->efd >= 0)
			close(q->efd);
	}
	free(rn->q);
	if (rn->have_ioctx)
		rados_ioctx_destroy(rn->ioctx);
	if (rn->cl != NULL)
		cluster_put(rn->cl);
	free(rn);
	ns->priv = NULL;
}

static void rbd_event(struct be_event *ev, int res);

/* Open queue q's handle; the first one also checks what the image is. */
static int open_queue(struct be_ns *ns, const struct be_params *p, struct rbd_queue *q, bool first,
		      const char *image, char *why, size_t whylen)
{
	struct rbd_ns *rn = ns->priv;
	uint64_t features;
	bool cache;
	int ret;

	q->ev.complete = rbd_event;
	if (p->read_only)
		ret = rbd_open_read_only(rn->ioctx, image, &q->image, NULL);
	else
		ret = rbd_open(rn->ioctx, image, &q->image, NULL);
	if (ret < 0) {
		q->image = NULL;
		snprintf(why, whylen, "opening image %s: %s", image, strerror(-ret));
		return ret;
	}
	if (first) {
		if ((ret = rbd_get_features(q->image, &features)) < 0 ||
		    (ret = rbd_get_size(q->image, &ns->size)) < 0 ||
		    (ret = cache_on(q->image, &cache)) < 0) {
			snprintf(why, whylen, "reading the image's header: %s", strerror(-ret));
			return ret;
		}
		if (!p->read_only && (features & RBD_FEATURE_EXCLUSIVE_LOCK)) {
			snprintf(why, whylen,
				 "the image has the exclusive-lock feature, which nvmfd does not "
				 "take (see nvmfd.ini(5), RBD); disable it (rbd feature disable "
				 "IMAGE exclusive-lock, after object-map, fast-diff, journaling) "
				 "or serve the namespace read_only");
			return -EBUSY;
		}
		if (cache) {
			snprintf(why, whylen,
				 "the image's configuration turns librbd's cache on "
				 "(conf_rbd_cache); nvmfd needs it off (rbd image-meta remove "
				 "IMAGE conf_rbd_cache)");
			return -EINVAL;
		}
	}
	q->efd = eventfd(0, EFD_CLOEXEC);
	if (q->efd < 0) {
		ret = -errno;
		snprintf(why, whylen, "eventfd: %s", strerror(-ret));
		return ret;
	}
	ret = rbd_set_image_notification(q->image, q->efd, EVENT_TYPE_EVENTFD);
	if (ret < 0) {
		snprintf(why, whylen, "rbd_set_image_notification: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static int rbd_open_ns(struct be_ns *ns, const struct be_params *p, char *why, size_t whylen)
{
	char pool[128], nspace[128], image[128];
	rbd_image_info_t info;
	uint64_t obj_size = 0;
	struct rbd_ns *rn;
	int ret;

	ns->kind = BE_RBD;
	ns->read_only = p->read_only;
	ns->block_size = p->block_size ? p->block_size : 512;
	ret = parse_path(p->path, pool, nspace, image, sizeof(pool));
	if (ret) {
		snprintf(why, whylen, "expected rbd:POOL/IMAGE or rbd:POOL/NAMESPACE/IMAGE");
		return ret;
	}
	rn = calloc(1, sizeof(*rn));
	if (rn == NULL)
		return -ENOMEM;
	ns->priv = rn;
	rn->nq = p->nqueues ? p->nqueues : 1;
	rn->q = aligned_alloc(64, rn->nq * sizeof(*rn->q));
	if (rn->q == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	memset(rn->q, 0, rn->nq * sizeof(*rn->q));
	for (unsigned int i = 0; i < rn->nq; i++)
		rn->q[i].efd = -1;
	rn->cl = cluster_get(p->ceph, &ret, why, whylen);
	if (rn->cl == NULL)
		goto fail;
	ret = rados_ioctx_create(rn->cl->rados, pool, &rn->ioctx);
	if (ret < 0) {
		snprintf(why, whylen, "pool %s: %s", pool, strerror(-ret));
		goto fail;
	}
	rn->have_ioctx = true;
	rados_ioctx_set_namespace(rn->ioctx, nspace);
	for (unsigned int i = 0; i < rn->nq; i++) {
		ret = open_queue(ns, p, &rn->q[i], i == 0, image, why, whylen);
		if (ret == -EPERM && strlen(why) < whylen) {
			/* cephx: the OSDs refuse what the client's caps do not allow */
			size_t n = strlen(why);

			snprintf(why + n, whylen - n, " (do client.%s's caps allow pool %s?)",
				 rn->cl->id[0] ? rn->cl->id : "admin", pool);
		}
		if (ret)
			goto fail;
	}
	if (rbd_stat(rn->q[0].image, &info, sizeof(info)) == 0)
		obj_size = info.obj_size;
	ns->size -= ns->size % ns->block_size;
	ns->can_punch = true;
	ns->dealloc = BE_DEALLOC_RBD;
	/* what a discard frees is whole objects; it zeroes the rest */
	ns->lim.dealloc_zeroes = true;
	ns->lim.dealloc_gran = obj_size <= UINT32_MAX ? (uint32_t)obj_size : 0;
	return 0;
fail:
	rbd_close_ns(ns);
	return ret;
}

static int rbd_size_now(const struct be_ns *ns, uint64_t *bytes)
{
	const struct rbd_ns *rn = ns->priv;
	uint64_t size = 0;

	/* each handle refreshes its header if a resize was announced */
	for (unsigned int i = 0; i < rn->nq; i++) {
		uint64_t s;
		int ret = rbd_get_size(rn->q[i].image, &s);

		if (ret < 0)
			return ret;
		if (i == 0 || s < size)
			size = s; /* until every handle knows, the smallest */
	}
	*bytes = size;
	return 0;
}

/* Queue the read of q's eventfd on its worker's ring. */
static int arm(struct rbd_queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(q->ring);

	if (sqe == NULL) {
		io_uring_submit(q->ring);
		sqe = io_uring_get_sqe(q->ring);
		if (sqe == NULL)
			return -EAGAIN;
	}
	io_uring_prep_read(sqe, q->efd, &q->efd_val, sizeof(q->efd_val), 0);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)q | q->tag);
	q->armed = true;
	return 0;
}

static void finish(struct be_io *io, ssize_t r)
{
	if (r < 0) {
		io->done(io, (int)r);
		return;
	}
	switch (io->op) {
	case BE_OP_READ:
		/* a short read: the image shrank under us */
		io->done(io, r == (ssize_t)io->len ? (int)r : -EIO);
		break;
	case BE_OP_WRITE:
		io->done(io, (int)io->len);
		break;
	default:
		io->done(io, 0);
		break;
	}
}

static void rbd_event(struct be_event *ev, int res)
{
	struct rbd_queue *q = (struct rbd_queue *)ev;
	rbd_completion_t comps[RBD_POLL_BATCH];
	int n;

	(void)res; /* a failed read (-ECANCELED at teardown) still polls */
	q->armed = false;
	do {
		n = rbd_poll_io_events(q->image, comps, RBD_POLL_BATCH);
		for (int i = 0; i < n; i++) {
			struct be_io *io = rbd_aio_get_arg(comps[i]);
			ssize_t r = rbd_aio_get_return_value(comps[i]);

			rbd_aio_release(comps[i]);
			q->inflight--;
			finish(io, r); /* may submit again, and arm */
		}
	} while (n == RBD_POLL_BATCH);
	if (q->inflight > 0 && !q->armed && arm(q) != 0) {
		/* the kernel takes no SQE at all: nothing can wake this queue */
		abort();
	}
}

static int rbd_submit(struct be_ns *ns, struct io_uring *ring, struct be_io *io)
{
	struct rbd_ns *rn = ns->priv;
	struct rbd_queue *q;
	rbd_completion_t c;
	int ret;

	if (io->queue >= rn->nq)
		return -EINVAL;
	q = &rn->q[io->queue];
	if ((io->op == BE_OP_WRITE_ZEROES || io->op == BE_OP_DEALLOCATE) && io->len == 0) {
		io->done(io, 0);
		return 0;
	}
	/* the queue's worker's ring (the same every time, but for tests) */
	q->ring = ring;
	q->tag = io->event_tag;
	/* room for the eventfd read, taken once the aio is issued (an SQE that
	 * names q may only be queued while q has an aio in flight: a drained
	 * namespace is closed) */
	if (!q->armed && io_uring_sq_space_left(ring) == 0) {
		io_uring_submit(ring);
		if (io_uring_sq_space_left(ring) == 0)
			return -EAGAIN;
	}
	ret = rbd_aio_create_completion(io, NULL, &c);
	if (ret < 0)
		return ret;
	switch (io->op) {
	case BE_OP_READ:
		ret = rbd_aio_read(q->image, io->offset, io->len, io->buf, c);
		break;
	case BE_OP_WRITE:
		/* no cache: acknowledged means on the OSDs, so FUA (here and for
		 * Write Zeroes and Deallocate) needs nothing more */
		ret = rbd_aio_write(q->image, io->offset, io->len, io->buf, c);
		break;
	case BE_OP_FLUSH:
		ret = rbd_aio_flush(q->image, c);
		break;
	case BE_OP_WRITE_ZEROES:
		/* frees what it can whether or not the host allowed it (deac):
		 * the zeroes are there either way */
		ret = rbd_aio_write_zeroes(q->image, io->offset, io->len, c, 0, 0);
		break;
	case BE_OP_DEALLOCATE:
		ret = rbd_aio_discard(q->image, io->offset, io->len, c);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (ret < 0) {
		rbd_aio_release(c);
		return ret;
	}
	q->inflight++;
	/* the completion may already be queued: the eventfd keeps its count */
	if (!q->armed && arm(q) != 0)
		abort(); /* unreachable: room was made above */
	return 0;
}

const struct be_ops be_rbd_ops = {
	.kind = BE_RBD,
	.name = "rbd",
	.open = rbd_open_ns,
	.close = rbd_close_ns,
	.submit = rbd_submit,
	.size_now = rbd_size_now,
};
