//! The C callbacks libxtables calls on our `xtables_target`: help, x6 option parsing,
//! final check, print and save. Each one converts between C and the plain functions in
//! `table_id_option`; none of them can panic.

use core::ffi::{c_char, c_int, c_void, CStr};
use std::ffi::CString;

use crate::table_id_option::{
    parse_table_id, print_text, save_text, HELP_TEXT, MISSING_ID_MESSAGE,
};
use crate::target_data::{read_table_id, write_table_id};
use crate::xtables_abi::{
    xt_params, xtables_option_parse, XtEntryTarget, XtFcheckCall, XtOptionCall, PARAMETER_PROBLEM,
};

/// Our only option's id in the x6 table; bit `1 << ID_OPTION` in `xflags` means seen.
pub const ID_OPTION: u32 = 0;

extern "C" {
    // C stdio, not Rust's `println!`: iptables writes the rest of the line with printf
    // and Rust's stdout has its own buffer, so mixing them would reorder the output.
    fn printf(format: *const c_char, ...) -> c_int;
}

/// Writes `text` to C's stdout.
fn c_print(text: &str) {
    let Ok(text) = CString::new(text) else { return };
    // SAFETY: both pointers are valid NUL-terminated strings and "%s" consumes one.
    unsafe { printf(c"%s".as_ptr(), text.as_ptr()) };
}

/// Reports a command-line error the way iptables' own extensions do (`xtables_error`),
/// which prints the program name and a "Try ... -h" hint, then exits.
fn exit_with_parameter_problem(message: &str) -> ! {
    let message = CString::new(message).unwrap_or_else(|_| c"RTPENGINE: invalid option".into());
    // SAFETY: `xt_params` is a plain pointer variable in libxtables; reading it is a
    // copy. It is null or points to the program's globals, alive until exit.
    let params = unsafe { xt_params };
    if !params.is_null() {
        // SAFETY: non-null `xt_params` points to a valid `xtables_globals`.
        if let Some(exit_err) = unsafe { (*params).exit_err } {
            // SAFETY: printf-style call with "%s" and one valid C string; never returns.
            unsafe { exit_err(PARAMETER_PROBLEM, c"%s".as_ptr(), message.as_ptr()) }
        }
    }
    eprintln!("{}", message.to_string_lossy());
    std::process::exit(PARAMETER_PROBLEM)
}

/// `help`: usage text for `iptables -j RTPENGINE --help`.
///
/// # Safety
/// None required; `unsafe` only to match the C callback type.
pub unsafe extern "C" fn help() {
    c_print(HELP_TEXT);
}

/// `x6_parse`: called once per `--id` on the command line.
///
/// # Safety
/// `cb` must be the valid call record libxtables passes, with `data` pointing to the
/// target's data (at least 4 bytes) and `arg` null or a C string.
pub unsafe extern "C" fn x6_parse(cb: *mut XtOptionCall) {
    // SAFETY: per this function's contract; libxtables' generic checks reject a repeated
    // option or a `!` before it and set our bit in `xflags`.
    unsafe { xtables_option_parse(cb) };
    // SAFETY: `cb` is valid for the duration of this call (contract above).
    let cb = unsafe { &mut *cb };
    let arg = if cb.arg.is_null() {
        String::new()
    } else {
        // SAFETY: non-null `arg` is the NUL-terminated argv string.
        unsafe { CStr::from_ptr(cb.arg) }
            .to_string_lossy()
            .into_owned()
    };
    match parse_table_id(&arg) {
        // SAFETY: `data` points to our `size`-byte target data (contract above).
        Ok(id) => unsafe { write_table_id(cb.data, id) },
        Err(err) => exit_with_parameter_problem(&err.to_string()),
    }
}

/// `x6_fcheck`: after all options; `--id` is mandatory.
///
/// # Safety
/// `cb` must be the valid final-check record libxtables passes.
pub unsafe extern "C" fn x6_fcheck(cb: *mut XtFcheckCall) {
    // SAFETY: valid for the duration of this call (contract above).
    let xflags = unsafe { (*cb).xflags };
    if xflags & (1 << ID_OPTION) == 0 {
        exit_with_parameter_problem(MISSING_ID_MESSAGE);
    }
}

/// `print`: the target part of `iptables -L`.
///
/// # Safety
/// `target` must point to a `struct xt_entry_target` carrying our data.
pub unsafe extern "C" fn print(
    _entry: *const c_void,
    target: *const XtEntryTarget,
    _numeric: c_int,
) {
    // SAFETY: per this function's contract.
    c_print(&print_text(unsafe { read_table_id(target) }));
}

/// `save`: the target options of `iptables -S` / `iptables-save`.
///
/// # Safety
/// `target` must point to a `struct xt_entry_target` carrying our data.
pub unsafe extern "C" fn save(_entry: *const c_void, target: *const XtEntryTarget) {
    // SAFETY: per this function's contract.
    c_print(&save_text(unsafe { read_table_id(target) }));
}
