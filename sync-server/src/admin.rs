//! Administration: the directory and the documents the server keeps for it. Used by the
//! `admin` commands, the web app's directory acts and the demo, on either backend; documents
//! are stored before the directory entries that name them, so an entry never exists without
//! its document.

use automerge::ActorId;
use nachbar_core::catalogue;
use nachbar_core::catalogue::CatalogueDoc;
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::model::business_profile::{BusinessProfileDoc, SizeBand};
use nachbar_core::model::neighbourhood::NeighbourhoodDoc;
use nachbar_core::time::Timestamp;

use crate::documents::{SERVER_PERSON, WriteError, create_in, edit_in};
use crate::storage::backend::Storage;
use crate::storage::{NewBusiness, NewNeighbourhood};

fn ctx(now: Timestamp) -> EditContext {
    EditContext::new(SERVER_PERSON, now)
}

fn date(now: Timestamp) -> String {
    // Days since the epoch → civil date (proleptic Gregorian), for member join dates.
    let days = now.millis().div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A new directory id (time-ordered, like those the stores make).
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Publishes catalogue release 1.0 as a `catalogue` document unless one is published; returns
/// the document id.
///
/// # Errors
/// On a storage error.
pub async fn init(storage: &Storage, now: Timestamp) -> Result<DocumentId, WriteError> {
    let existing = storage.documents.first_of_kind("catalogue").await?;
    if let Some(id) = existing.and_then(|id| id.parse().ok()) {
        return Ok(id);
    }
    let (doc, _) =
        CatalogueDoc::create(ActorId::random(), &ctx(now), "*", catalogue::release_1_0())?;
    Ok(create_in(storage.documents.as_ref(), doc.inner()).await?)
}

/// Adds a neighbourhood with its document; returns (neighbourhood id, document id). The
/// document is stored first, so the directory entry never exists without it.
///
/// # Errors
/// On a storage error.
pub async fn add_neighbourhood(
    storage: &Storage,
    name: &str,
    location: &str,
    now: Timestamp,
) -> Result<(String, DocumentId), WriteError> {
    let id = new_id();
    let (doc, _) = NeighbourhoodDoc::create(ActorId::random(), &ctx(now), &id, name, location)?;
    let doc_id = create_in(storage.documents.as_ref(), doc.inner()).await?;
    let entry = NewNeighbourhood {
        id: &id,
        name,
        location,
        doc: &doc_id.to_string(),
    };
    storage
        .access
        .add_neighbourhood(&entry, now.millis())
        .await?;
    Ok((id, doc_id))
}

async fn neighbourhood_doc(storage: &Storage, neighbourhood: &str) -> Result<String, WriteError> {
    storage
        .access
        .neighbourhood_doc(neighbourhood)
        .await?
        .ok_or_else(|| WriteError::NotFound(format!("neighbourhood {neighbourhood}")))
}

/// Adds a member business: its profile document, the directory entry, and the member entry in
/// the neighbourhood document, in that order. Returns (business id, profile document id).
///
/// # Errors
/// On a storage error or an unknown neighbourhood.
pub async fn add_business(
    storage: &Storage,
    neighbourhood: &str,
    name: &str,
    trade: &str,
    size: Option<SizeBand>,
    now: Timestamp,
) -> Result<(String, DocumentId), WriteError> {
    let hood_doc = neighbourhood_doc(storage, neighbourhood).await?;
    let id = new_id();
    let (profile, _) = BusinessProfileDoc::create(
        ActorId::random(),
        &ctx(now),
        neighbourhood,
        &id,
        name,
        trade,
        size,
    )?;
    let profile_id = create_in(storage.documents.as_ref(), profile.inner()).await?;
    let entry = NewBusiness {
        id: &id,
        neighbourhood,
        name,
        trade,
        profile_doc: &profile_id.to_string(),
    };
    storage.access.add_business(&entry, now.millis()).await?;
    let joined = date(now);
    edit_in(storage.documents.as_ref(), &hood_doc, |doc| {
        let mut n = NeighbourhoodDoc::open(doc)?;
        let _in_the_returned_document = n.upsert_member(&ctx(now), &id, name, trade, &joined)?;
        Ok(((), n.into_inner()))
    })
    .await?;
    Ok((id, profile_id))
}

/// Records that a business left: access ends now, and the neighbourhood document shows it.
///
/// # Errors
/// On a storage error or an unknown business.
pub async fn business_left(
    storage: &Storage,
    business: &str,
    now: Timestamp,
) -> Result<(), WriteError> {
    let neighbourhood = storage
        .access
        .neighbourhood_of_business(business)
        .await?
        .ok_or_else(|| WriteError::NotFound(format!("business {business}")))?;
    storage.access.business_left(business, now.millis()).await?;
    let hood_doc = neighbourhood_doc(storage, &neighbourhood).await?;
    let left = date(now);
    edit_in(storage.documents.as_ref(), &hood_doc, |doc| {
        let mut n = NeighbourhoodDoc::open(doc)?;
        let _in_the_returned_document = n.member_left(&ctx(now), business, &left)?;
        Ok(((), n.into_inner()))
    })
    .await?;
    Ok(())
}

/// Shows a person as coordinator or coach in the neighbourhood document (display only; the
/// directory roles decide access).
///
/// # Errors
/// On a storage error or an unknown neighbourhood.
pub async fn show_staff(
    storage: &Storage,
    neighbourhood: &str,
    person: &str,
    coach: bool,
    now: Timestamp,
) -> Result<(), WriteError> {
    let hood_doc = neighbourhood_doc(storage, neighbourhood).await?;
    edit_in(storage.documents.as_ref(), &hood_doc, |doc| {
        let mut n = NeighbourhoodDoc::open(doc)?;
        let _in_the_returned_document = n.set_staff(&ctx(now), coach, person, true)?;
        Ok(((), n.into_inner()))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(date(Timestamp(0)), "1970-01-01");
        assert_eq!(date(Timestamp(1_793_610_000_000)), "2026-11-02");
        assert_eq!(date(Timestamp(951_782_400_000)), "2000-02-29");
    }

    #[tokio::test]
    async fn a_business_joins_with_its_profile_and_the_neighbourhood_shows_it() {
        let dir = tempfile::tempdir().unwrap();
        let conn = std::sync::Arc::new(std::sync::Mutex::new(
            crate::storage::Store::open(&dir.path().join("db.sqlite3")).unwrap(),
        ));
        let storage = Storage::sqlite(std::sync::Arc::clone(&conn));
        let now = Timestamp(1_793_610_000_000);
        let cat = init(&storage, now).await.unwrap();
        assert_eq!(
            init(&storage, now).await.unwrap(),
            cat,
            "init is idempotent"
        );
        let (hood, hood_doc) =
            add_neighbourhood(&storage, "Gewerbegebiet Peiner Straße", "Salzgitter", now)
                .await
                .unwrap();
        let (glazier, profile) = add_business(
            &storage,
            &hood,
            "Glaserei Brandt",
            "Glaser",
            Some(SizeBand::Small),
            now,
        )
        .await
        .unwrap();
        let loaded = |id: &DocumentId| -> crate::storage::StoredDoc {
            conn.lock().unwrap().load(&id.to_string()).unwrap().unwrap()
        };
        let n = NeighbourhoodDoc::load(&loaded(&hood_doc).bytes, ActorId::random())
            .unwrap()
            .view()
            .unwrap();
        assert_eq!(n.members.len(), 1);
        assert_eq!(n.members[0].business, glazier);
        assert_eq!(n.members[0].joined_at.as_deref(), Some("2026-11-02"));
        let p = BusinessProfileDoc::load(&loaded(&profile).bytes, ActorId::random())
            .unwrap()
            .view()
            .unwrap();
        assert_eq!(p.display_name, "Glaserei Brandt");
        assert_eq!(
            loaded(&profile).record.business.as_deref(),
            Some(glazier.as_str())
        );
        assert_eq!(
            loaded(&hood_doc).record.title,
            "Nachbarschaft: Gewerbegebiet Peiner Straße"
        );
        business_left(&storage, &glazier, now).await.unwrap();
        let n = NeighbourhoodDoc::load(&loaded(&hood_doc).bytes, ActorId::random())
            .unwrap()
            .view()
            .unwrap();
        assert!(!n.members[0].is_active());
        let store = conn.lock().unwrap();
        assert!(!store.directory(now.millis()).unwrap().businesses[&glazier].active);
        assert!(store.feed_version().unwrap() > 0);
    }
}
