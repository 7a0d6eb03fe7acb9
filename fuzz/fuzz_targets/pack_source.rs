//! Fuzz target `pack_source`: see `distillguard_fuzz::check_pack_source`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| distillguard_fuzz::check_pack_source(data));
