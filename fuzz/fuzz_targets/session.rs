//! Fuzz target `session`: see `nachbar_server::fuzz_targets::session`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nachbar_server::fuzz_targets::session(data));
