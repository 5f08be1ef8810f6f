//! Replays the fuzz targets' saved corpus, their regression inputs (every finding of a fuzz
//! run, kept under `fuzz/regressions/<target>/`) and their seeds through the same entry points
//! the fuzzer runs (`nachbar_server::fuzz_targets`): none may panic.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut inputs = nachbar_server::fuzz_targets::seeds(target);
    for folder in ["corpus", "regressions"] {
        let dir = root.join(folder).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            inputs.push(std::fs::read(entry.path()).expect("readable input"));
        }
    }
    assert!(!inputs.is_empty(), "{target}: nothing to replay");
    for input in &inputs {
        run(input);
    }
    println!("{target}: {} inputs replayed", inputs.len());
}

#[test]
fn the_frame_corpus_replays() {
    replay("frame", nachbar_server::fuzz_targets::frame);
}

#[test]
fn the_sync_message_corpus_replays() {
    replay("sync_msg", nachbar_server::fuzz_targets::sync_msg);
}

#[test]
fn the_stored_document_corpus_replays() {
    replay("doc_load", nachbar_server::fuzz_targets::doc_load);
}

#[test]
fn the_session_corpus_replays() {
    replay("session", nachbar_server::fuzz_targets::session);
}
