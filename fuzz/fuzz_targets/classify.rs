//! Fuzz target `classify`: see `distillguard_fuzz::check_classify`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| distillguard_fuzz::check_classify(data));
