//! The coordinator's neighbourhood archive: every document of the neighbourhood the
//! coordinator may read, in Automerge's saved form, with a JSON manifest (id, kind, business,
//! heads, file), in one zip. Built on a blocking thread from what storage holds (exactly what
//! is durable); stored uncompressed, since Automerge's bytes are compressed already.

use std::io::Write;

use automerge::ActorId;
use nachbar_core::doc::NachbarDoc;
use nachbar_core::ids::DocumentId;
use serde::Serialize;
use zip::write::SimpleFileOptions;

/// One document of the archive, as the manifest lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The document id.
    pub id: String,
    /// Its kind code.
    pub kind: String,
    /// Its business, if any.
    pub business: Option<String>,
    /// Its heads (hex) when it was archived.
    pub heads: Vec<String>,
    /// The file in the zip.
    pub file: String,
}

/// The manifest.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// The neighbourhood's id.
    pub neighbourhood: String,
    /// Its name.
    pub name: String,
    /// When the archive was made (ms since the epoch).
    pub archived_at: i64,
    /// The documents.
    pub documents: Vec<ManifestEntry>,
}

/// Why an archive could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A stored document does not load.
    #[error(transparent)]
    Domain(#[from] nachbar_core::DomainError),
    /// Writing the zip failed.
    #[error(transparent)]
    Zip(#[from] zip::result::ZipError),
    /// Writing the manifest failed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Writing to memory failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The zip of `docs` (id and stored bytes) with the manifest `manifest.json`.
///
/// # Errors
/// When a document does not load, or writing fails.
pub fn build(
    neighbourhood: &str,
    name: &str,
    archived_at: i64,
    docs: &[(DocumentId, Vec<u8>)],
) -> Result<Vec<u8>, ArchiveError> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut documents = Vec::with_capacity(docs.len());
    for (id, bytes) in docs {
        let doc = NachbarDoc::load(bytes, ActorId::random())?;
        let header = doc.header();
        let file = format!("{}/{id}.automerge", header.kind.code());
        zip.start_file(file.as_str(), options)?;
        // The saved form, compacted: one file Automerge (or automerge-repo) loads as it is.
        zip.write_all(&doc.save())?;
        documents.push(ManifestEntry {
            id: id.to_string(),
            kind: header.kind.code().to_owned(),
            business: header.business.clone(),
            heads: doc.heads().iter().map(ToString::to_string).collect(),
            file,
        });
    }
    let manifest = Manifest {
        neighbourhood: neighbourhood.to_owned(),
        name: name.to_owned(),
        archived_at,
        documents,
    };
    zip.start_file("manifest.json", options)?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    Ok(zip.finish()?.into_inner())
}
