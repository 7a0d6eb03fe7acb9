//! Fuzz target `pack_bytes`: see `distillguard_fuzz::check_pack_bytes`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| distillguard_fuzz::check_pack_bytes(data));
