//! Writes the fuzz targets' starting inputs into a corpus folder (one subfolder per target):
//! `cargo run -p nachbar-server --example fuzz_seeds -- fuzz/corpus` (scripts/fuzz does).

fn main() -> std::io::Result<()> {
    let root = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus".to_owned());
    for target in ["frame", "sync_msg", "doc_load", "session"] {
        let dir = std::path::Path::new(&root).join(target);
        std::fs::create_dir_all(&dir)?;
        for (i, seed) in nachbar_server::fuzz_targets::seeds(target)
            .iter()
            .enumerate()
        {
            std::fs::write(dir.join(format!("seed-{i}")), seed)?;
        }
    }
    Ok(())
}
