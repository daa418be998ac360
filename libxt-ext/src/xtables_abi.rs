//! The parts of libxtables 12's ABI (iptables 1.8.9, `/usr/include/xtables.h`) that the
//! extension touches, as `repr(C)` Rust types. Offsets are for x86_64 and asserted below;
//! `tests/c_header_layout.rs` checks them against the installed header with a C compiler.

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::mem::{offset_of, size_of};

/// `XTABLES_VERSION`: libxtables refuses extensions built for another ABI.
pub const XTABLES_VERSION: &core::ffi::CStr = c"libxtables.so.12";

/// `NFPROTO_IPV4` / `NFPROTO_IPV6` from `<linux/netfilter.h>`.
pub const NFPROTO_IPV4: u16 = 2;
pub const NFPROTO_IPV6: u16 = 10;

/// `enum xtables_exittype` value for bad command-line parameters.
pub const PARAMETER_PROBLEM: c_int = 2;

/// `XTTYPE_STRING`: libxtables hands the raw argument to our parser untouched.
pub const XTTYPE_STRING: c_uint = 10;

/// `struct xt_entry_target` is a 32-byte header followed by the target's own data.
pub const XT_ENTRY_TARGET_DATA_OFFSET: usize = 32;

/// Opaque: only ever seen through pointers.
#[repr(C)]
pub struct XtEntryTarget {
    _opaque: [u8; 0],
}

/// `struct xt_option_entry`: one option of the x6 parser interface.
#[repr(C)]
pub struct XtOptionEntry {
    pub name: *const c_char,
    pub type_: c_uint,
    pub id: c_uint,
    pub excl: c_uint,
    pub also: c_uint,
    pub flags: c_uint,
    pub ptroff: c_uint,
    pub size: usize,
    pub min: c_uint,
    pub max: c_uint,
}

impl XtOptionEntry {
    /// The all-null entry that terminates an option table.
    pub const END: Self = Self {
        name: core::ptr::null(),
        type_: 0,
        id: 0,
        excl: 0,
        also: 0,
        flags: 0,
        ptroff: 0,
        size: 0,
        min: 0,
        max: 0,
    };
}

/// `struct xt_option_call`: what libxtables passes to `x6_parse` for one option.
#[repr(C)]
pub struct XtOptionCall {
    pub arg: *const c_char,
    pub ext_name: *const c_char,
    pub entry: *const XtOptionEntry,
    /// The target data (`struct xt_entry_target::data`), `size` bytes.
    pub data: *mut c_void,
    /// Bit `entry.id` set for every option seen so far.
    pub xflags: c_uint,
    pub invert: bool,
    pub nvals: u8,
    /// The parsed-value union; unused because our option is `XTTYPE_STRING`.
    pub val: [u64; 5],
    pub target: *mut *mut XtEntryTarget,
    pub xt_entry: *mut c_void,
    pub udata: *mut c_void,
}

/// `struct xt_fcheck_call`: what libxtables passes to `x6_fcheck` after all options.
#[repr(C)]
pub struct XtFcheckCall {
    pub ext_name: *const c_char,
    pub data: *mut c_void,
    pub udata: *mut c_void,
    pub xflags: c_uint,
}

/// `struct xtables_target`. libxtables links registered targets through `next` and
/// writes the trailing bookkeeping fields, so a registered value must live forever.
#[repr(C)]
pub struct XtablesTarget {
    pub version: *const c_char,
    pub next: *mut XtablesTarget,
    pub name: *const c_char,
    pub real_name: *const c_char,
    pub revision: u8,
    pub ext_flags: u8,
    pub family: u16,
    pub size: usize,
    pub userspacesize: usize,
    pub help: Option<unsafe extern "C" fn()>,
    pub init: Option<unsafe extern "C" fn(*mut XtEntryTarget)>,
    pub parse: Option<
        unsafe extern "C" fn(
            c_int,
            *mut *mut c_char,
            c_int,
            *mut c_uint,
            *const c_void,
            *mut *mut XtEntryTarget,
        ) -> c_int,
    >,
    pub final_check: Option<unsafe extern "C" fn(c_uint)>,
    pub print: Option<unsafe extern "C" fn(*const c_void, *const XtEntryTarget, c_int)>,
    pub save: Option<unsafe extern "C" fn(*const c_void, *const XtEntryTarget)>,
    pub alias: Option<unsafe extern "C" fn(*const XtEntryTarget) -> *const c_char>,
    pub extra_opts: *const c_void,
    pub x6_parse: Option<unsafe extern "C" fn(*mut XtOptionCall)>,
    pub x6_fcheck: Option<unsafe extern "C" fn(*mut XtFcheckCall)>,
    pub x6_options: *const XtOptionEntry,
    pub xlate: Option<unsafe extern "C" fn(*mut c_void, *const c_void) -> c_int>,
    pub udata_size: usize,
    pub udata: *mut c_void,
    pub option_offset: c_uint,
    pub t: *mut XtEntryTarget,
    pub tflags: c_uint,
    pub used: c_uint,
    pub loaded: c_uint,
}

/// `struct xtables_globals`: the running program's settings, reached via `xt_params`.
#[repr(C)]
pub struct XtablesGlobals {
    pub option_offset: c_uint,
    pub program_name: *const c_char,
    pub program_version: *const c_char,
    pub orig_opts: *mut c_void,
    pub opts: *mut c_void,
    /// Prints a message (printf-style) and exits; what `xtables_error()` expands to.
    pub exit_err: Option<unsafe extern "C" fn(c_int, *const c_char, ...) -> !>,
    pub compat_rev: Option<unsafe extern "C" fn(*const c_char, u8, c_int) -> c_int>,
}

#[link(name = "xtables")]
extern "C" {
    /// Set by the iptables program before it loads any extension; null otherwise.
    pub static xt_params: *mut XtablesGlobals;
    pub fn xtables_register_targets(targets: *mut XtablesTarget, n: c_uint);
    /// Generic x6 checks (option repeated, `!` not allowed) and sets the option's xflag.
    pub fn xtables_option_parse(cb: *mut XtOptionCall);
}

/// Layout facts of x86_64 / iptables 1.8.9, checked when this crate compiles.
macro_rules! assert_layout {
    ($t:ty, size $size:expr, $($field:ident @ $off:expr),* $(,)?) => {
        const _: () = assert!(size_of::<$t>() == $size);
        $(const _: () = assert!(offset_of!($t, $field) == $off);)*
    };
}

assert_layout!(XtOptionEntry, size 48,
    name @ 0, type_ @ 8, id @ 12, excl @ 16, also @ 20, flags @ 24, ptroff @ 28,
    size @ 32, min @ 40, max @ 44);
assert_layout!(XtOptionCall, size 104,
    arg @ 0, ext_name @ 8, entry @ 16, data @ 24, xflags @ 32, invert @ 36, nvals @ 37,
    val @ 40, target @ 80, xt_entry @ 88, udata @ 96);
assert_layout!(XtFcheckCall, size 32, ext_name @ 0, data @ 8, udata @ 16, xflags @ 24);
assert_layout!(XtablesTarget, size 200,
    version @ 0, next @ 8, name @ 16, real_name @ 24, revision @ 32, ext_flags @ 33,
    family @ 34, size @ 40, userspacesize @ 48, help @ 56, init @ 64, parse @ 72,
    final_check @ 80, print @ 88, save @ 96, alias @ 104, extra_opts @ 112,
    x6_parse @ 120, x6_fcheck @ 128, x6_options @ 136, xlate @ 144, udata_size @ 152,
    udata @ 160, option_offset @ 168, t @ 176, tflags @ 184, used @ 188, loaded @ 192);
assert_layout!(XtablesGlobals, size 56,
    option_offset @ 0, program_name @ 8, program_version @ 16, orig_opts @ 24, opts @ 32,
    exit_err @ 40, compat_rev @ 48);
