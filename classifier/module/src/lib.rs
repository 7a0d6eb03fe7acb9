//! The classifier as a plain core-wasm module: zero imports, a small C ABI.
//!
//! # ABI, version 2
//!
//! All integers are `i32`/`u32` (wasm32). The host owns no guest memory: it
//! asks the guest to allocate, writes into that buffer, and frees it.
//!
//! | export | signature | does |
//! | --- | --- | --- |
//! | `dg_abi_version` | `() -> u32` | `2` |
//! | `dg_alloc` | `(len: u32) -> ptr` | allocates `len` bytes (align 1); `0` when out of memory. `len == 0` gives a non-null pointer that must not be written |
//! | `dg_free` | `(ptr, len: u32)` | frees a buffer from `dg_alloc` with the same `len` |
//! | `dg_load_pack` | `(ptr, len: u32) -> u32` | loads a compiled pack from the buffer; replaces the previous pack on success |
//! | `dg_classify` | `(ptr, len: u32) -> u32` | classifies the UTF-8 text in the buffer (one user segment) |
//! | `dg_classify_segments` | `(ptr, len: u32) -> u32` | classifies a prompt of segments with roles (since version 2; framing below) |
//! | `dg_result_ptr` | `() -> ptr` | the result of the last `dg_load_pack`/`dg_classify` |
//! | `dg_result_len` | `() -> u32` | its length in bytes |
//!
//! Status: `0` is success; any other value is the numeric part of the
//! error code (`104` for `E104`), and the result holds
//! `{"error":{"code":"E104","message":"..."}}`. On success `dg_classify`'s
//! result is the verdict JSON, byte for byte what `Verdict::to_json` gives
//! natively; `dg_load_pack`'s is `{"pack":{"name":...,"version":...}}`.
//! The result buffer stays valid until the next `dg_load_pack`/`dg_classify`;
//! the input buffer is not retained and may be freed right after the call.
//! A trap (out of memory, a bug) leaves the instance unusable: discard it.
//!
//! `dg_classify_segments` reads, for each segment in order: one role byte
//! (`0` system or developer, `1` user, `2` assistant, `3` tool, `4`
//! document), the text's length in bytes as a little-endian `u32`, then the
//! UTF-8 text (`distillguard::encode_segments` writes it). A malformed
//! buffer gives `E201` (input rejected) with the byte where it went wrong;
//! invalid UTF-8 gives `E202`. The verdict is what
//! `Pack::classify_segments` gives natively: spans carry `segment` and
//! `role`, offsets within their segment.
//!
//! Version 1 hosts see the same `dg_classify`; only the version number and
//! the new export differ.

use distillguard::{Error, ErrorCode, Pack};
use std::alloc::{alloc, dealloc, Layout};
use std::cell::RefCell;

/// The ABI version this module implements.
pub const ABI_VERSION: u32 = 2;

struct State {
    pack: Option<Pack>,
    result: Vec<u8>,
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State { pack: None, result: Vec::new() }) };
}

fn set_result(bytes: Vec<u8>) {
    STATE.with(|s| s.borrow_mut().result = bytes);
}

fn fail(e: &Error) -> u32 {
    let body = serde_json::json!({"error": {"code": e.code().as_str(), "message": e.message()}});
    set_result(body.to_string().into_bytes());
    e.code().number()
}

/// # Safety
/// `ptr..ptr+len` must be a live buffer from `dg_alloc` (or `len == 0`).
unsafe fn input<'a>(ptr: *const u8, len: u32) -> &'a [u8] {
    if len == 0 || ptr.is_null() {
        return &[];
    }
    // SAFETY: the caller guarantees the buffer is live and `len` long.
    unsafe { std::slice::from_raw_parts(ptr, len as usize) }
}

/// Returns the ABI version.
#[no_mangle]
pub extern "C" fn dg_abi_version() -> u32 {
    ABI_VERSION
}

/// Allocates `len` bytes; 0 when out of memory.
#[no_mangle]
pub extern "C" fn dg_alloc(len: u32) -> *mut u8 {
    if len == 0 {
        return std::ptr::NonNull::<u8>::dangling().as_ptr();
    }
    match Layout::from_size_align(len as usize, 1) {
        // SAFETY: the layout has non-zero size.
        Ok(layout) => unsafe { alloc(layout) },
        Err(_) => std::ptr::null_mut(),
    }
}

/// Frees a buffer returned by `dg_alloc(len)`.
///
/// # Safety
/// `ptr` must come from `dg_alloc` with the same `len`, and not be freed twice.
#[no_mangle]
pub unsafe extern "C" fn dg_free(ptr: *mut u8, len: u32) {
    if len == 0 || ptr.is_null() {
        return;
    }
    if let Ok(layout) = Layout::from_size_align(len as usize, 1) {
        // SAFETY: the caller guarantees ptr/len came from dg_alloc.
        unsafe { dealloc(ptr, layout) }
    }
}

/// Loads a compiled pack.
///
/// # Safety
/// `ptr..ptr+len` must be a live buffer from `dg_alloc`.
#[no_mangle]
pub unsafe extern "C" fn dg_load_pack(ptr: *const u8, len: u32) -> u32 {
    // SAFETY: forwarded caller guarantee.
    let bytes = unsafe { input(ptr, len) };
    match Pack::from_bytes(bytes) {
        Ok(pack) => {
            let body = serde_json::json!({"pack": {"name": pack.meta().name, "version": pack.meta().version}});
            STATE.with(|s| {
                let mut s = s.borrow_mut();
                s.pack = Some(pack);
                s.result = body.to_string().into_bytes();
            });
            0
        }
        Err(e) => fail(&e),
    }
}

/// Classifies UTF-8 text.
///
/// # Safety
/// `ptr..ptr+len` must be a live buffer from `dg_alloc`.
#[no_mangle]
pub unsafe extern "C" fn dg_classify(ptr: *const u8, len: u32) -> u32 {
    // SAFETY: forwarded caller guarantee.
    let bytes = unsafe { input(ptr, len) };
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return fail(&Error::new(
                ErrorCode::InvalidUtf8,
                format!("input is not valid UTF-8 at byte {}", e.valid_up_to()),
            ))
        }
    };
    let verdict = STATE.with(|s| s.borrow().pack.as_ref().map(|p| p.classify(text)));
    match verdict {
        Some(v) => {
            set_result(v.to_json().into_bytes());
            0
        }
        None => fail(&Error::new(ErrorCode::NoPack, "no pack is loaded: call dg_load_pack first")),
    }
}

/// Classifies a prompt of segments with roles (framing in the module docs).
///
/// # Safety
/// `ptr..ptr+len` must be a live buffer from `dg_alloc`.
#[no_mangle]
pub unsafe extern "C" fn dg_classify_segments(ptr: *const u8, len: u32) -> u32 {
    // SAFETY: forwarded caller guarantee.
    let bytes = unsafe { input(ptr, len) };
    let segments = match distillguard::decode_segments(bytes) {
        Ok(s) => s,
        Err(why) if why.contains("UTF-8") => return fail(&Error::new(ErrorCode::InvalidUtf8, why)),
        Err(why) => return fail(&Error::new(ErrorCode::InputRejected, why)),
    };
    let verdict = STATE.with(|s| s.borrow().pack.as_ref().map(|p| p.classify_segments(&segments)));
    match verdict {
        Some(v) => {
            set_result(v.to_json().into_bytes());
            0
        }
        None => fail(&Error::new(ErrorCode::NoPack, "no pack is loaded: call dg_load_pack first")),
    }
}

/// Pointer to the last result.
#[no_mangle]
pub extern "C" fn dg_result_ptr() -> *const u8 {
    STATE.with(|s| s.borrow().result.as_ptr())
}

/// Length of the last result.
#[no_mangle]
pub extern "C" fn dg_result_len() -> u32 {
    STATE.with(|s| s.borrow().result.len() as u32)
}
