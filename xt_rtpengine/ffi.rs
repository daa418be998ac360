// SPDX-License-Identifier: GPL-2.0

//! Declarations of what `helpers.c` and the kernel export to us that `kernel::bindings`
//! lacks (no proc_fs or netfilter bindings exist in Rust-for-Linux 6.12).

use crate::proc::ops::ProcOps;
use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint, c_void};

/// `struct proc_dir_entry`; only ever handled by address.
pub(crate) type ProcDirEntry = bindings::proc_dir_entry;

/// `XT_CONTINUE`: let the packet continue through the chain (a macro in C).
pub(crate) const XT_CONTINUE: u32 = 0xFFFF_FFFF;
/// `NF_DROP`.
#[allow(dead_code)]
pub(crate) const NF_DROP: u32 = 0;

pub(crate) const NFPROTO_IPV4: u8 = 2;
pub(crate) const NFPROTO_IPV6: u8 = 10;

// `struct file` contains opaque arch types bindgen renders as empty structs; we only
// pass pointers to it.
#[allow(improper_ctypes)]
extern "C" {
    // helpers.c: accessors for inline functions, macros and module parameters.
    /// Sizes and offsets of `struct proc_ops`, see `proc::ops::check_layout`.
    pub(crate) static rtpe_proc_ops_layout: [usize; 7];
    pub(crate) fn rtpe_inode_pde_data(inode: *mut bindings::inode) -> *mut c_void;
    pub(crate) fn rtpe_proc_set_owner(pde: *mut ProcDirEntry);
    pub(crate) fn rtpe_module_get() -> bool;
    pub(crate) fn rtpe_module_put();
    pub(crate) fn rtpe_param_proc_mask() -> c_uint;
    pub(crate) fn rtpe_param_stream_packets_list_limit() -> c_uint;
    pub(crate) fn rtpe_log_ratelimit() -> bool;
    /// Whether to log a packet error now: `log_errors` is set and the rate limit allows.
    pub(crate) fn rtpe_log_packet_error() -> bool;
    pub(crate) fn rtpe_xt_register() -> c_int;
    pub(crate) fn rtpe_xt_unregister();

    // fs/proc (exported, not in kernel::bindings).
    pub(crate) fn proc_mkdir_mode(
        name: *const c_char,
        mode: bindings::umode_t,
        parent: *mut ProcDirEntry,
    ) -> *mut ProcDirEntry;
    pub(crate) fn proc_create_data(
        name: *const c_char,
        mode: bindings::umode_t,
        parent: *mut ProcDirEntry,
        ops: *const ProcOps,
        data: *mut c_void,
    ) -> *mut ProcDirEntry;
    pub(crate) fn proc_remove(pde: *mut ProcDirEntry);
}

/// `struct net`; only handled by address.
pub(crate) type Net = bindings::net;

extern "C" {
    // helpers.c: packet path.
    pub(crate) fn rtpe_skb_network_data(skb: *mut bindings::sk_buff, len: *mut c_uint)
        -> *const u8;
    pub(crate) fn rtpe_skb_alloc(len: c_uint, data: *mut *mut u8) -> *mut bindings::sk_buff;
    pub(crate) fn rtpe_skb_free(skb: *mut bindings::sk_buff);
    pub(crate) fn rtpe_now_us() -> i64;
    pub(crate) fn rtpe_send_ipv4(
        net: *mut Net,
        skb: *mut bindings::sk_buff,
        saddr: u32,
        daddr: u32,
        tos: u8,
    ) -> c_int;
    pub(crate) fn rtpe_send_ipv6(
        net: *mut Net,
        skb: *mut bindings::sk_buff,
        saddr: *const u8,
        daddr: *const u8,
    ) -> c_int;
}

extern "C" {
    // helpers.c: deferred freeing.
    pub(crate) fn rtpe_wq_create() -> c_int;
    pub(crate) fn rtpe_wq_destroy();
    pub(crate) fn rtpe_free_after_rcu(rw: *mut bindings::rcu_work, f: bindings::work_func_t);

    // helpers.c: kernel crypto API. Transforms are opaque pointers.
    pub(crate) fn rtpe_aes_new(key: *const u8, len: c_uint) -> *mut c_void;
    pub(crate) fn rtpe_aes_encrypt(tfm: *mut c_void, block: *mut u8);
    pub(crate) fn rtpe_aes_free(tfm: *mut c_void);
    pub(crate) fn rtpe_aes_ctr_new(key: *const u8, len: c_uint) -> *mut c_void;
    pub(crate) fn rtpe_aes_ctr_free(tfm: *mut c_void);
    pub(crate) fn rtpe_aes_ctr_xor(
        tfm: *mut c_void,
        iv: *const u8,
        data: *mut u8,
        len: c_uint,
    ) -> c_int;
    pub(crate) fn rtpe_hmac_sha1_new(key: *const u8, len: c_uint) -> *mut c_void;
    pub(crate) fn rtpe_hmac_free(tfm: *mut c_void);
    pub(crate) fn rtpe_hmac_desc_size() -> usize;
    pub(crate) fn rtpe_hmac_init(tfm: *mut c_void, desc: *mut c_void) -> c_int;
    pub(crate) fn rtpe_hmac_update(desc: *mut c_void, data: *const u8, len: c_uint) -> c_int;
    pub(crate) fn rtpe_hmac_final(desc: *mut c_void, out: *mut u8) -> c_int;
    pub(crate) fn rtpe_hmac_mac2(
        tfm: *mut c_void,
        a: *const u8,
        a_len: c_uint,
        b: *const u8,
        b_len: c_uint,
        out: *mut u8,
    ) -> c_int;
    pub(crate) fn rtpe_gcm_new(key: *const u8, len: c_uint) -> *mut c_void;
    pub(crate) fn rtpe_gcm_free(tfm: *mut c_void);
    pub(crate) fn rtpe_gcm_crypt(
        tfm: *mut c_void,
        encrypt: bool,
        iv: *const u8,
        aad: *mut u8,
        aad_len: c_uint,
        data: *mut u8,
        len: c_uint,
        tag: *mut u8,
    ) -> c_int;
    pub(crate) fn rtpe_gcm_crypt_contiguous(
        tfm: *mut c_void,
        encrypt: bool,
        iv: *const u8,
        buf: *mut u8,
        aad_len: c_uint,
        len: c_uint,
    ) -> c_int;
    pub(crate) fn rtpe_skb_trim(skb: *mut bindings::sk_buff, len: c_uint);
}

// As above: only pointers to `struct file` are passed.
#[allow(improper_ctypes)]
extern "C" {
    // helpers.c: wait queues of recorded streams (opaque pointers).
    pub(crate) fn rtpe_waitq_new() -> *mut c_void;
    pub(crate) fn rtpe_waitq_wake(w: *mut c_void);
    pub(crate) fn rtpe_waitq_wait(
        w: *mut c_void,
        cond: unsafe extern "C" fn(*const c_void) -> bool,
        arg: *const c_void,
    ) -> c_int;
    pub(crate) fn rtpe_waitq_poll(
        w: *mut c_void,
        file: *mut bindings::file,
        pt: *mut bindings::poll_table_struct,
    );
    pub(crate) fn rtpe_waitq_free(w: *mut c_void);
}
