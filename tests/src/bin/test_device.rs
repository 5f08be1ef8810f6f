//! A device as a process, for the tests that SIGKILL a client mid-edit:
//! `nachbar-test-device <database> <server> <token> <document>` opens the user's database,
//! starts syncing and answers questions of the assessment `document` in a loop; after each edit
//! call returns it prints the document's head (one hash per line, flushed), so the test knows
//! which edits the device confirmed before it was killed.

use std::io::Write;
use std::time::Duration;

use nachbar_core::client::{Client, ClientConfig, ClientError};
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::model::assessment::AssessmentDoc;
use nachbar_core::store::ReplicaError;
use nachbar_core::time::Timestamp;

const QUESTIONS: [&str; 8] = ["A1", "A2", "B1", "B3", "C1", "C2", "C3", "C4"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [database, server, token, doc] = args.as_slice() else {
        eprintln!("usage: nachbar-test-device <database> <server> <token> <document>");
        std::process::exit(2);
    };
    let doc: DocumentId = match doc.parse() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("bad document id: {e}");
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("runtime: {e}");
            std::process::exit(1);
        }
    };
    let client = match Client::open(ClientConfig::new(database, server.as_str(), token.as_str())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("open: {e}");
            std::process::exit(1);
        }
    };
    client.start(runtime.handle());
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let question = QUESTIONS[(i % QUESTIONS.len() as u64) as usize];
        let ctx = EditContext::new("device", Timestamp::now());
        let level = (i % 5) as i64;
        match client.edit(&doc, |a: &mut AssessmentDoc| {
            a.set_level(&ctx, question, level)
        }) {
            Ok(()) => {}
            // Not fetched yet on a new device: wait for the first sync.
            Err(ClientError::Local(ReplicaError::Missing(_))) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(e) => {
                eprintln!("edit: {e}");
                std::process::exit(1);
            }
        }
        let Ok(heads) = client.heads(&doc) else {
            std::process::exit(1);
        };
        for head in heads {
            let _ = writeln!(out, "{head}");
        }
        let _ = out.flush();
        std::thread::sleep(Duration::from_millis(2));
    }
}
