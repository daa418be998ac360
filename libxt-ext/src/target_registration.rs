//! Registers the two RTPENGINE targets (IPv4 and IPv6) with libxtables when iptables
//! dlopen()s this library: libxtables expects extensions to register from an ELF
//! constructor, as its own `_init` functions do.

use core::ptr;

use crate::target_callbacks::{help, print, save, x6_fcheck, x6_parse, ID_OPTION};
use crate::target_data::TARGET_INFO_ALIGNED_SIZE;
use crate::xtables_abi::{
    xt_params, xtables_register_targets, XtOptionEntry, XtablesTarget, NFPROTO_IPV4, NFPROTO_IPV6,
    XTABLES_VERSION, XTTYPE_STRING,
};

/// The target name in `-j RTPENGINE`.
pub const TARGET_NAME: &core::ffi::CStr = c"RTPENGINE";

// Run `register_on_load` when the dynamic loader maps this library.
#[used]
#[unsafe(link_section = ".init_array")]
static REGISTER_ON_LOAD: extern "C" fn() = register_on_load;

extern "C" fn register_on_load() {
    // SAFETY: reading the pointer variable is a plain copy. Only an iptables program
    // sets it (before loading extensions); registering without it would crash in
    // libxtables, e.g. when this crate is linked into its own test binaries.
    if unsafe { xt_params }.is_null() {
        return;
    }
    // libxtables keeps and links these for the life of the process: leak them.
    let options: &'static [XtOptionEntry; 2] = Box::leak(Box::new(id_option_table()));
    let targets: &'static mut [XtablesTarget; 2] = Box::leak(Box::new([
        target_for(NFPROTO_IPV4, options),
        target_for(NFPROTO_IPV6, options),
    ]));
    // SAFETY: `targets` is a live, never-freed array of 2 fully initialised entries.
    unsafe { xtables_register_targets(targets.as_mut_ptr(), targets.len() as u32) };
}

/// `--id <n>` as an x6 option; the value is checked by our own parser, and its absence
/// by our final check (not `XTOPT_MAND`) so the message matches 10.5's.
fn id_option_table() -> [XtOptionEntry; 2] {
    [
        XtOptionEntry {
            name: c"id".as_ptr(),
            type_: XTTYPE_STRING,
            id: ID_OPTION,
            ..XtOptionEntry::END
        },
        XtOptionEntry::END,
    ]
}

/// The RTPENGINE target description for one address family.
pub fn target_for(family: u16, options: &'static [XtOptionEntry; 2]) -> XtablesTarget {
    XtablesTarget {
        version: XTABLES_VERSION.as_ptr(),
        next: ptr::null_mut(),
        name: TARGET_NAME.as_ptr(),
        real_name: ptr::null(),
        revision: 0,
        ext_flags: 0,
        family,
        size: TARGET_INFO_ALIGNED_SIZE,
        userspacesize: TARGET_INFO_ALIGNED_SIZE,
        help: Some(help),
        init: None,
        parse: None,
        final_check: None,
        print: Some(print),
        save: Some(save),
        alias: None,
        extra_opts: ptr::null(),
        x6_parse: Some(x6_parse),
        x6_fcheck: Some(x6_fcheck),
        x6_options: options.as_ptr(),
        xlate: None,
        udata_size: 0,
        udata: ptr::null_mut(),
        option_offset: 0,
        t: ptr::null_mut(),
        tflags: 0,
        used: 0,
        loaded: 0,
    }
}
