//! Fuzz target `doc_load`: see `nachbar_server::fuzz_targets::doc_load`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nachbar_server::fuzz_targets::doc_load(data));
