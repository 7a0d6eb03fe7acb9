//! Fuzz target `normalize`: see `distillguard_fuzz::check_normalize`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| distillguard_fuzz::check_normalize(data));
