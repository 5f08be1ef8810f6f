//! Fuzz target `frame`: see `nachbar_server::fuzz_targets::frame`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nachbar_server::fuzz_targets::frame(data));
