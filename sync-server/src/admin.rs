//! Administration: the directory and the documents the server keeps for it. Used by the
//! `admin` commands and the demo; every step is one storage transaction or more, never a
//! half-written directory entry without its document.

use automerge::ActorId;
use nachbar_core::catalogue;
use nachbar_core::catalogue::CatalogueDoc;
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::model::business_profile::{BusinessProfileDoc, SizeBand};
use nachbar_core::model::neighbourhood::NeighbourhoodDoc;
use nachbar_core::time::Timestamp;

use crate::documents::{SERVER_PERSON, WriteError};
use crate::storage::Store;

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

/// Publishes catalogue release 1.0 as a `catalogue` document unless one is published; returns
/// the document id.
///
/// # Errors
/// On a storage error.
pub fn init(store: &mut Store, now: Timestamp) -> Result<DocumentId, WriteError> {
    let existing = store.catalogue_doc()?;
    if let Some(id) = existing.and_then(|id| id.parse().ok()) {
        return Ok(id);
    }
    let (doc, _) =
        CatalogueDoc::create(ActorId::random(), &ctx(now), "*", catalogue::release_1_0())?;
    Ok(store.create_document(doc.inner())?)
}

/// Adds a neighbourhood with its document; returns (neighbourhood id, document id).
///
/// # Errors
/// On a storage error.
pub fn add_neighbourhood(
    store: &mut Store,
    name: &str,
    location: &str,
    now: Timestamp,
) -> Result<(String, DocumentId), WriteError> {
    let id = store.add_neighbourhood(name, location, now.millis())?;
    let (doc, _) = NeighbourhoodDoc::create(ActorId::random(), &ctx(now), &id, name, location)?;
    let doc_id = store.create_document(doc.inner())?;
    store.set_neighbourhood_doc(&id, &doc_id.to_string())?;
    Ok((id, doc_id))
}

fn neighbourhood_doc(store: &Store, neighbourhood: &str) -> Result<String, WriteError> {
    store
        .neighbourhood_doc(neighbourhood)?
        .ok_or_else(|| WriteError::NotFound(format!("neighbourhood {neighbourhood}")))
}

/// Adds a member business: the directory entry, its profile document, and the member entry in
/// the neighbourhood document. Returns (business id, profile document id).
///
/// # Errors
/// On a storage error or an unknown neighbourhood.
pub fn add_business(
    store: &mut Store,
    neighbourhood: &str,
    name: &str,
    trade: &str,
    size: Option<SizeBand>,
    now: Timestamp,
) -> Result<(String, DocumentId), WriteError> {
    let hood_doc = neighbourhood_doc(store, neighbourhood)?;
    let id = store.add_business(neighbourhood, name, trade, now.millis())?;
    let (profile, _) = BusinessProfileDoc::create(
        ActorId::random(),
        &ctx(now),
        neighbourhood,
        &id,
        name,
        trade,
        size,
    )?;
    let profile_id = store.create_document(profile.inner())?;
    store.set_profile_doc(&id, &profile_id.to_string())?;
    let joined = date(now);
    store.edit_document(&hood_doc, |doc| {
        let mut n = NeighbourhoodDoc::open(doc)?;
        let _in_the_returned_document = n.upsert_member(&ctx(now), &id, name, trade, &joined)?;
        Ok(((), n.into_inner()))
    })?;
    Ok((id, profile_id))
}

/// Records that a business left: access ends now, and the neighbourhood document shows it.
///
/// # Errors
/// On a storage error or an unknown business.
pub fn business_left(store: &mut Store, business: &str, now: Timestamp) -> Result<(), WriteError> {
    let neighbourhood = store
        .neighbourhood_of_business(business)?
        .ok_or_else(|| WriteError::NotFound(format!("business {business}")))?;
    store.business_left(business, now.millis())?;
    let hood_doc = neighbourhood_doc(store, &neighbourhood)?;
    let left = date(now);
    store.edit_document(&hood_doc, |doc| {
        let mut n = NeighbourhoodDoc::open(doc)?;
        let _in_the_returned_document = n.member_left(&ctx(now), business, &left)?;
        Ok(((), n.into_inner()))
    })?;
    Ok(())
}

/// Shows a person as coordinator or coach in the neighbourhood document (display only; the
/// directory roles decide access).
///
/// # Errors
/// On a storage error or an unknown neighbourhood.
pub fn show_staff(
    store: &mut Store,
    neighbourhood: &str,
    person: &str,
    coach: bool,
    now: Timestamp,
) -> Result<(), WriteError> {
    let hood_doc = neighbourhood_doc(store, neighbourhood)?;
    store.edit_document(&hood_doc, |doc| {
        let mut n = NeighbourhoodDoc::open(doc)?;
        let _in_the_returned_document = n.set_staff(&ctx(now), coach, person, true)?;
        Ok(((), n.into_inner()))
    })
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

    #[test]
    fn a_business_joins_with_its_profile_and_the_neighbourhood_shows_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
        let now = Timestamp(1_793_610_000_000);
        let cat = init(&mut store, now).unwrap();
        assert_eq!(init(&mut store, now).unwrap(), cat, "init is idempotent");
        let (hood, hood_doc) =
            add_neighbourhood(&mut store, "Gewerbegebiet Peiner Straße", "Salzgitter", now)
                .unwrap();
        let (glazier, profile) = add_business(
            &mut store,
            &hood,
            "Glaserei Brandt",
            "Glaser",
            Some(SizeBand::Small),
            now,
        )
        .unwrap();
        fn loaded(store: &Store, id: &DocumentId) -> crate::storage::StoredDoc {
            store.load(&id.to_string()).unwrap().unwrap()
        }
        let n = NeighbourhoodDoc::load(&loaded(&store, &hood_doc).bytes, ActorId::random())
            .unwrap()
            .view()
            .unwrap();
        assert_eq!(n.members.len(), 1);
        assert_eq!(n.members[0].business, glazier);
        assert_eq!(n.members[0].joined_at.as_deref(), Some("2026-11-02"));
        let p = BusinessProfileDoc::load(&loaded(&store, &profile).bytes, ActorId::random())
            .unwrap()
            .view()
            .unwrap();
        assert_eq!(p.display_name, "Glaserei Brandt");
        assert_eq!(
            loaded(&store, &profile).record.business.as_deref(),
            Some(glazier.as_str())
        );
        assert_eq!(
            loaded(&store, &hood_doc).record.title,
            "Nachbarschaft: Gewerbegebiet Peiner Straße"
        );
        business_left(&mut store, &glazier, now).unwrap();
        let n = NeighbourhoodDoc::load(&loaded(&store, &hood_doc).bytes, ActorId::random())
            .unwrap()
            .view()
            .unwrap();
        assert!(!n.members[0].is_active());
        assert!(!store.directory(now.millis()).unwrap().businesses[&glazier].active);
        assert!(store.feed_version().unwrap() > 0);
    }
}
