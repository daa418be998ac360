// SPDX-License-Identifier: GPL-2.0
/*
 * C glue for xt_RTPENGINE: only what Rust cannot express or call directly.
 *   - struct definitions with designated initialisers (xt_target), whose callbacks
 *     are the Rust functions declared below, and the layout of struct proc_ops, which
 *     Rust builds itself;
 *   - module parameters (module_param is a macro);
 *   - accessors for static inline functions and macros (THIS_MODULE, pde_data,
 *     xt_family, make_kuid, ...).
 * No logic lives here: every decision is taken in Rust.
 */
#include <linux/module.h>
#include <linux/ratelimit.h>
#include <linux/proc_fs.h>
#include <linux/fs.h>
#include <linux/uidgid.h>
#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/ktime.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/ip6_route.h>
#include <linux/workqueue.h>
#include <linux/scatterlist.h>
#include <crypto/hash.h>
#include <crypto/aead.h>
#include <crypto/internal/cipher.h>
#include <crypto/internal/simd.h>
#include <crypto/skcipher.h>
#include <linux/sched/task_stack.h>
#include <linux/wait.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <asm/simd.h>

/* ---- module parameters (same names and meaning as rtpengine 10.5) ---- */

static unsigned int proc_uid;
module_param(proc_uid, uint, 0444);
MODULE_PARM_DESC(proc_uid, "owner of the per-table /proc/rtpengine/N entries");

static unsigned int proc_gid;
module_param(proc_gid, uint, 0444);
MODULE_PARM_DESC(proc_gid, "group of the per-table /proc/rtpengine/N entries");

static unsigned int proc_mask;
module_param(proc_mask, uint, 0444);
MODULE_PARM_DESC(proc_mask, "permission bits removed from the per-table /proc entries");

static unsigned int stream_packets_list_limit = 10;
module_param(stream_packets_list_limit, uint, 0444);
MODULE_PARM_DESC(stream_packets_list_limit, "packets a recorded stream keeps when ADD_STREAM asks for 0");

unsigned int rtpe_param_stream_packets_list_limit(void)
{
	return stream_packets_list_limit;
}

/* A bool as in 10.5, so modprobe takes what it took (log_errors=Y, =1, bare log_errors);
 * also writable under /sys/module/xt_RTPENGINE/parameters at run time. */
static bool log_errors;
module_param(log_errors, bool, 0644);
MODULE_PARM_DESC(log_errors, "log packet forwarding errors to the kernel log (rate limited)");

MODULE_ALIAS("ipt_RTPENGINE");
/* crypto_cipher (single AES blocks) is exported in this namespace. */
MODULE_IMPORT_NS(CRYPTO_INTERNAL);
MODULE_ALIAS("ip6t_RTPENGINE");

unsigned int rtpe_param_proc_mask(void) { return proc_mask; }

/* Shared limit for the module's warnings about rejected input: 10 lines per 5 s. */
static DEFINE_RATELIMIT_STATE(rtpe_log_limit, 5 * HZ, 10);
bool rtpe_log_ratelimit(void) { return __ratelimit(&rtpe_log_limit); }

/* Packet errors, when log_errors is set: a limit of their own, so that a flood of bad
 * packets cannot silence the warnings about rejected control input, and vice versa. */
static DEFINE_RATELIMIT_STATE(rtpe_packet_log_limit, 5 * HZ, 10);
bool rtpe_log_packet_error(void)
{
	return READ_ONCE(log_errors) && __ratelimit(&rtpe_packet_log_limit);
}

/* ---- /proc ---- */

/*
 * struct proc_ops is built in Rust (proc/ops.rs, one table per kind of file, callbacks in
 * proc/adapter.rs); this is the real layout it is checked against at load.
 */
const size_t rtpe_proc_ops_layout[7] = {
	sizeof(struct proc_ops),
	offsetof(struct proc_ops, proc_flags),
	offsetof(struct proc_ops, proc_open),
	offsetof(struct proc_ops, proc_read),
	offsetof(struct proc_ops, proc_write),
	offsetof(struct proc_ops, proc_lseek),
	offsetof(struct proc_ops, proc_release),
};

/* The datum stored with the proc entry of an inode being opened (the table id). */
void *rtpe_inode_pde_data(struct inode *inode)
{
	return pde_data(inode);
}

/* Owner of per-table entries: the proc_uid/proc_gid module parameters. */
void rtpe_proc_set_owner(struct proc_dir_entry *pde)
{
	proc_set_user(pde, make_kuid(&init_user_ns, proc_uid), make_kgid(&init_user_ns, proc_gid));
}

bool rtpe_module_get(void) { return try_module_get(THIS_MODULE); }
void rtpe_module_put(void) { module_put(THIS_MODULE); }

/* ---- x_tables target ---- */

/* Target data shared with libxt_RTPENGINE.so: `struct xt_rtpengine_info { u32 id; }`. */
struct rtpe_xt_info {
	u32 id;
};

/* Implemented in Rust (packet/xt.rs). */
unsigned int rtpe_target(struct sk_buff *skb, struct net *net, u32 id, u8 family);
int rtpe_target_check(u32 id);

static unsigned int rtpe_tg(struct sk_buff *skb, const struct xt_action_param *par)
{
	const struct rtpe_xt_info *info = par->targinfo;

	return rtpe_target(skb, xt_net(par), info->id, xt_family(par));
}

static int rtpe_tg_check(const struct xt_tgchk_param *par)
{
	const struct rtpe_xt_info *info = par->targinfo;

	return rtpe_target_check(info->id);
}

static struct xt_target rtpe_tg_reg[] __read_mostly = {
	{
		.name = "RTPENGINE",
		.revision = 0,
		.family = NFPROTO_IPV4,
		.target = rtpe_tg,
		.targetsize = sizeof(struct rtpe_xt_info),
		.table = "filter",
		.hooks = 1 << NF_INET_LOCAL_IN,
		.checkentry = rtpe_tg_check,
		.me = THIS_MODULE,
	},
	{
		.name = "RTPENGINE",
		.revision = 0,
		.family = NFPROTO_IPV6,
		.target = rtpe_tg,
		.targetsize = sizeof(struct rtpe_xt_info),
		.table = "filter",
		.hooks = 1 << NF_INET_LOCAL_IN,
		.checkentry = rtpe_tg_check,
		.me = THIS_MODULE,
	},
};

int rtpe_xt_register(void)
{
	return xt_register_targets(rtpe_tg_reg, ARRAY_SIZE(rtpe_tg_reg));
}

void rtpe_xt_unregister(void)
{
	xt_unregister_targets(rtpe_tg_reg, ARRAY_SIZE(rtpe_tg_reg));
}

/* ---- packet path: sk_buff accessors and sending (inline functions and macros) ---- */

/*
 * Makes the packet linear and returns its bytes from the network header on, or NULL
 * when that is impossible (out of memory). At LOCAL_IN the network header is in place.
 */
const u8 *rtpe_skb_network_data(struct sk_buff *skb, unsigned int *len)
{
	int off;

	if (skb_linearize(skb))
		return NULL;
	off = skb_network_offset(skb);
	if (off < 0 || (unsigned int)off > skb->len)
		return NULL;
	*len = skb->len - off;
	return skb_network_header(skb);
}

/* A new packet of `len` bytes (filled by the caller), with room for link headers. */
struct sk_buff *rtpe_skb_alloc(unsigned int len, u8 **data)
{
	struct sk_buff *skb = alloc_skb(LL_MAX_HEADER + len, GFP_ATOMIC);

	if (!skb)
		return NULL;
	skb_reserve(skb, LL_MAX_HEADER);
	*data = skb_put(skb, len);
	return skb;
}

void rtpe_skb_free(struct sk_buff *skb)
{
	kfree_skb(skb);
}

s64 rtpe_now_us(void)
{
	return ktime_to_us(ktime_get_real());
}

/*
 * The UDP checksum is left to the device or the stack (the caller put the pseudo-header
 * sum into the check field), as for the kernel's own UDP sockets.
 */
static void rtpe_udp_csum_partial(struct sk_buff *skb)
{
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = skb_transport_header(skb) - skb->head;
	skb->csum_offset = offsetof(struct udphdr, check);
}

/* Routes and sends a complete IPv4+UDP packet built by the caller; consumes `skb`. */
int rtpe_send_ipv4(struct net *net, struct sk_buff *skb, __be32 saddr, __be32 daddr, u8 tos)
{
	struct flowi4 fl4 = {
		.daddr = daddr,
		.saddr = saddr,
		.flowi4_tos = tos & INET_DSCP_MASK,
		.flowi4_proto = IPPROTO_UDP,
	};
	struct rtable *rt;

	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt)) {
		kfree_skb(skb);
		return PTR_ERR(rt);
	}
	skb_dst_set(skb, &rt->dst);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, sizeof(struct iphdr));
	skb->protocol = htons(ETH_P_IP);
	rtpe_udp_csum_partial(skb);
	return ip_local_out(net, NULL, skb);
}

/* Routes and sends a complete IPv6+UDP packet built by the caller; consumes `skb`. */
int rtpe_send_ipv6(struct net *net, struct sk_buff *skb, const u8 *saddr, const u8 *daddr)
{
	struct flowi6 fl6 = { .flowi6_proto = IPPROTO_UDP };
	struct dst_entry *dst;
	int err;

	memcpy(&fl6.saddr, saddr, sizeof(fl6.saddr));
	memcpy(&fl6.daddr, daddr, sizeof(fl6.daddr));
	dst = ip6_route_output(net, NULL, &fl6);
	if (dst->error) {
		err = dst->error;
		dst_release(dst);
		kfree_skb(skb);
		return err;
	}
	skb_dst_set(skb, dst);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, sizeof(struct ipv6hdr));
	skb->protocol = htons(ETH_P_IPV6);
	rtpe_udp_csum_partial(skb);
	return ip6_local_out(net, NULL, skb);
}

/* ---- deferred freeing: after an RCU grace period, in process context ---- */

static struct workqueue_struct *rtpe_wq;

int rtpe_wq_create(void)
{
	rtpe_wq = alloc_workqueue("rtpengine", 0, 0);
	return rtpe_wq ? 0 : -ENOMEM;
}

/* Waits for every deferred free queued so far, then removes the queue. */
void rtpe_wq_destroy(void)
{
	rcu_barrier();
	destroy_workqueue(rtpe_wq);
}

void rtpe_free_after_rcu(struct rcu_work *rw, work_func_t fn)
{
	INIT_RCU_WORK(rw, fn);
	queue_rcu_work(rtpe_wq, rw);
}

/* ---- crypto API (allocation and request set-up are macros and inlines) ---- */

void *rtpe_aes_new(const u8 *key, unsigned int len)
{
	struct crypto_cipher *tfm = crypto_alloc_cipher("aes", 0, 0);

	if (IS_ERR(tfm))
		return NULL;
	if (crypto_cipher_setkey(tfm, key, len)) {
		crypto_free_cipher(tfm);
		return NULL;
	}
	return tfm;
}

void rtpe_aes_encrypt(void *tfm, u8 *block)
{
	crypto_cipher_encrypt_one(tfm, block, block);
}

void rtpe_aes_free(void *tfm)
{
	crypto_free_cipher(tfm);
}

void *rtpe_hmac_sha1_new(const u8 *key, unsigned int len)
{
	struct crypto_shash *tfm = crypto_alloc_shash("hmac(sha1)", 0, 0);

	if (IS_ERR(tfm))
		return NULL;
	if (crypto_shash_setkey(tfm, key, len) ||
	    sizeof(struct shash_desc) + crypto_shash_descsize(tfm) > HASH_MAX_DESCSIZE) {
		crypto_free_shash(tfm);
		return NULL;
	}
	return tfm;
}

void rtpe_hmac_free(void *tfm)
{
	crypto_free_shash(tfm);
}

/* Size of the buffer `desc` points to in the three calls below. */
size_t rtpe_hmac_desc_size(void)
{
	return HASH_MAX_DESCSIZE;
}

int rtpe_hmac_init(void *tfm, void *desc)
{
	struct shash_desc *d = desc;

	d->tfm = tfm;
	return crypto_shash_init(d);
}

int rtpe_hmac_update(void *desc, const u8 *data, unsigned int len)
{
	return crypto_shash_update(desc, data, len);
}

int rtpe_hmac_final(void *desc, u8 *out)
{
	return crypto_shash_final(desc, out);
}

/* HMAC of a || b in one call (an SRTP tag: the packet, then the ROC), no copies of the
 * descriptor between calls. */
int rtpe_hmac_mac2(void *tfm, const u8 *a, unsigned int a_len, const u8 *b, unsigned int b_len,
		   u8 *out)
{
	SHASH_DESC_ON_STACK(desc, tfm);
	int err;

	desc->tfm = tfm;
	err = crypto_shash_init(desc);
	if (!err)
		err = crypto_shash_update(desc, a, a_len);
	if (!err)
		err = crypto_shash_finup(desc, b, b_len, out);
	shash_desc_zero(desc);
	return err;
}

/*
 * Whole-packet AES-CTR and AES-GCM in one kernel FPU section.
 *
 * The public "ctr(aes)" and "gcm(aes)" of AES-NI are asynchronous SIMD wrappers, which
 * softirq code cannot wait for; the synchronous ones the API then picks are the generic
 * templates over the single-block "aes" cipher, which enters and leaves the FPU once per
 * 16-byte block (and use table-based GHASH). The wrappers themselves call the internal
 * ("__"-prefixed) algorithm directly whenever crypto_simd_usable() holds, and queue to
 * cryptd otherwise; we do the same, with the caller's per-block or generic path in place
 * of cryptd. Where no internal algorithm exists (another architecture, no AES-NI) the
 * allocation fails and the generic path is all there is.
 *
 * A scatterlist must not point at the (vmapped) stack, so the fast paths take only
 * buffers in the kernel's linear map (packet data); others get the generic path.
 * Returning -EAGAIN, they have not touched the buffer.
 */
/*
 * Whether `p` may be handed to the fast paths: in the linear map, off the stack, and
 * within one page, so that the crypto walk maps it in one piece and never needs the
 * bounce buffers it would have to allocate (and could fail to, in softirq context).
 */
static bool rtpe_sg_ok(const void *p, unsigned int len)
{
	return len && len <= PAGE_SIZE - offset_in_page(p) && !object_is_on_stack(p) &&
	       virt_addr_valid(p);
}

void *rtpe_aes_ctr_new(const u8 *key, unsigned int len)
{
	struct crypto_sync_skcipher *tfm =
		crypto_alloc_sync_skcipher("__ctr(aes)", CRYPTO_ALG_INTERNAL, CRYPTO_ALG_INTERNAL);

	if (IS_ERR(tfm))
		return NULL;
	if (crypto_sync_skcipher_ivsize(tfm) != 16 || crypto_sync_skcipher_setkey(tfm, key, len)) {
		crypto_free_sync_skcipher(tfm);
		return NULL;
	}
	return tfm;
}

void rtpe_aes_ctr_free(void *tfm)
{
	crypto_free_sync_skcipher(tfm);
}

/*
 * XORs `data` with the AES-CTR keystream from the 16-byte big-endian counter block `iv`.
 * Returns 0, or -EAGAIN when SIMD or the buffer does not allow it now (nothing done).
 */
int rtpe_aes_ctr_xor(void *tfm, const u8 *iv, u8 *data, unsigned int len)
{
	SYNC_SKCIPHER_REQUEST_ON_STACK(req, (struct crypto_sync_skcipher *)tfm);
	struct scatterlist sg;
	u8 ivbuf[16];
	int err;

	if (!len)
		return 0;
	if (!crypto_simd_usable() || !rtpe_sg_ok(data, len))
		return -EAGAIN;
	memcpy(ivbuf, iv, sizeof(ivbuf));
	sg_init_one(&sg, data, len);
	skcipher_request_set_sync_tfm(req, tfm);
	skcipher_request_set_callback(req, 0, NULL, NULL);
	skcipher_request_set_crypt(req, &sg, &sg, len, ivbuf);
	err = crypto_skcipher_encrypt(req);
	skcipher_request_zero(req);
	return err;
}

/* A keyed GCM pair: the internal AES-NI one (may be NULL) and the generic synchronous one. */
struct rtpe_gcm {
	struct crypto_aead *simd;
	struct crypto_aead *generic;
};

/* Room for an aead_request of the internal algorithm on the stack (AES-NI needs none). */
#define RTPE_GCM_REQ_ROOM 64

static struct crypto_aead *rtpe_gcm_alloc(const char *name, u32 type, u32 mask,
					  const u8 *key, unsigned int len)
{
	struct crypto_aead *tfm = crypto_alloc_aead(name, type, mask);

	if (IS_ERR(tfm))
		return NULL;
	if (crypto_aead_ivsize(tfm) != 12 || crypto_aead_setkey(tfm, key, len) ||
	    crypto_aead_setauthsize(tfm, 16)) {
		crypto_free_aead(tfm);
		return NULL;
	}
	return tfm;
}

void *rtpe_gcm_new(const u8 *key, unsigned int len)
{
	struct rtpe_gcm *g = kzalloc(sizeof(*g), GFP_KERNEL);

	if (!g)
		return NULL;
	/* Synchronous implementations only: we run in softirq context. */
	g->generic = rtpe_gcm_alloc("gcm(aes)", 0, CRYPTO_ALG_ASYNC, key, len);
	if (!g->generic) {
		kfree(g);
		return NULL;
	}
	g->simd = rtpe_gcm_alloc("__gcm(aes)", CRYPTO_ALG_INTERNAL,
				 CRYPTO_ALG_INTERNAL | CRYPTO_ALG_ASYNC, key, len);
	if (g->simd && crypto_aead_reqsize(g->simd) > RTPE_GCM_REQ_ROOM) {
		crypto_free_aead(g->simd);
		g->simd = NULL;
	}
	return g;
}

void rtpe_gcm_free(void *tfm)
{
	struct rtpe_gcm *g = tfm;

	if (g->simd)
		crypto_free_aead(g->simd);
	crypto_free_aead(g->generic);
	kfree(g);
}

/* One GCM operation over `buf` = aad || data || 16-byte tag, in place. */
static int rtpe_gcm_simd_op(struct crypto_aead *aead, bool encrypt, u8 *iv, u8 *buf,
			    unsigned int aad_len, unsigned int len)
{
	char room[sizeof(struct aead_request) + RTPE_GCM_REQ_ROOM] CRYPTO_MINALIGN_ATTR;
	struct aead_request *req = (void *)room;
	struct scatterlist sg;
	int err;

	sg_init_one(&sg, buf, aad_len + len + 16);
	aead_request_set_tfm(req, aead);
	aead_request_set_callback(req, 0, NULL, NULL);
	aead_request_set_ad(req, aad_len);
	aead_request_set_crypt(req, &sg, &sg, encrypt ? len : len + 16, iv);
	err = encrypt ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req);
	memzero_explicit(room, sizeof(room));
	return err;
}

/*
 * AES-GCM in place over `buf` = aad || data || tag (aad_len, len and 16 bytes), one
 * buffer in the linear map. Returns 0, -EBADMSG on a tag mismatch (buffer unchanged),
 * -EAGAIN when the fast path cannot run now (nothing done), or another error.
 */
int rtpe_gcm_crypt_contiguous(void *tfm, bool encrypt, const u8 *iv, u8 *buf,
			      unsigned int aad_len, unsigned int len)
{
	struct rtpe_gcm *g = tfm;
	u8 ivbuf[12], tag[16];
	int err;

	if (!g->simd || !crypto_simd_usable() || !rtpe_sg_ok(buf, aad_len + len + 16))
		return -EAGAIN;
	memcpy(ivbuf, iv, sizeof(ivbuf));
	if (encrypt)
		return rtpe_gcm_simd_op(g->simd, true, ivbuf, buf, aad_len, len);
	memcpy(tag, buf + aad_len + len, sizeof(tag));
	err = rtpe_gcm_simd_op(g->simd, false, ivbuf, buf, aad_len, len);
	if (err == -EBADMSG) {
		/* Decryption ran before the tag check: encrypting again with the same IV
		 * restores the data (counter mode); the tag it writes is replaced by the
		 * received one. */
		memcpy(ivbuf, iv, sizeof(ivbuf));
		if (rtpe_gcm_simd_op(g->simd, true, ivbuf, buf, aad_len, len))
			err = -EIO;
		memcpy(buf + aad_len + len, tag, sizeof(tag));
	}
	return err;
}

/*
 * AES-GCM in place over aad || data, with the 16-byte tag in `tag`, on the generic
 * transform: for any buffers. The tag is bounced through the request allocation because
 * `tag` may live on the (vmapped) stack, which a scatterlist must not point at. Returns
 * 0, -EBADMSG on a tag mismatch, or another error.
 */
int rtpe_gcm_crypt(void *tfm, bool encrypt, const u8 *iv, u8 *aad, unsigned int aad_len,
		   u8 *data, unsigned int len, u8 *tag)
{
	struct crypto_aead *aead = ((struct rtpe_gcm *)tfm)->generic;
	struct aead_request *req;
	struct scatterlist sg[3];
	u8 ivbuf[12], *tagbuf, *saved;
	int err;

	/* Decryption works in place before the tag is checked: keep a copy to undo it. */
	req = kmalloc(sizeof(*req) + crypto_aead_reqsize(aead) + 16 + (encrypt ? 0 : len), GFP_ATOMIC);
	if (!req)
		return -ENOMEM;
	tagbuf = (u8 *)(req + 1) + crypto_aead_reqsize(aead);
	saved = tagbuf + 16;
	if (!encrypt)
		memcpy(saved, data, len);
	memcpy(ivbuf, iv, sizeof(ivbuf));
	if (!encrypt)
		memcpy(tagbuf, tag, 16);
	sg_init_table(sg, 3);
	sg_set_buf(&sg[0], aad, aad_len);
	sg_set_buf(&sg[1], data, len);
	sg_set_buf(&sg[2], tagbuf, 16);
	aead_request_set_tfm(req, aead);
	aead_request_set_callback(req, 0, NULL, NULL);
	aead_request_set_ad(req, aad_len);
	aead_request_set_crypt(req, sg, sg, encrypt ? len : len + 16, ivbuf);
	err = encrypt ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req);
	if (!err && encrypt)
		memcpy(tag, tagbuf, 16);
	if (err && !encrypt)
		memcpy(data, saved, len);
	kfree_sensitive(req);
	return err;
}

void rtpe_skb_trim(struct sk_buff *skb, unsigned int len)
{
	skb_trim(skb, len);
}

/* ---- wait queues of recorded streams (wait_event and poll_wait are macros/inlines) ---- */

struct rtpe_waitq {
	wait_queue_head_t wq;
	struct rcu_head rcu;
};

void *rtpe_waitq_new(void)
{
	struct rtpe_waitq *w = kmalloc(sizeof(*w), GFP_KERNEL);

	if (w)
		init_waitqueue_head(&w->wq);
	return w;
}

void rtpe_waitq_wake(void *w)
{
	wake_up_interruptible_poll(&((struct rtpe_waitq *)w)->wq, EPOLLIN | EPOLLRDNORM);
}

/* Sleeps until `cond(arg)` holds: 0, or -ERESTARTSYS on a signal. */
int rtpe_waitq_wait(void *w, bool (*cond)(const void *), const void *arg)
{
	return wait_event_interruptible(((struct rtpe_waitq *)w)->wq, cond(arg));
}

void rtpe_waitq_poll(void *w, struct file *file, struct poll_table_struct *pt)
{
	poll_wait(file, &((struct rtpe_waitq *)w)->wq, pt);
}

/*
 * Frees a wait queue that epoll may still be registered on (the file can outlive the
 * stream once procfs has released it): POLLFREE detaches every poller, and the memory
 * goes after a grace period, as wake_up_pollfree requires. Any context.
 */
void rtpe_waitq_free(void *w)
{
	struct rtpe_waitq *q = w;

	wake_up_pollfree(&q->wq);
	kfree_rcu(q, rcu);
}
