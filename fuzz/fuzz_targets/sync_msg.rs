//! Fuzz target `sync_msg`: see `nachbar_server::fuzz_targets::sync_msg`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nachbar_server::fuzz_targets::sync_msg(data));
