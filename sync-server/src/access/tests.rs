//! The access rules as a model table: every role against every document kind.

use nachbar_core::doc::{DocKind, Header};
use nachbar_core::time::Timestamp;

use super::*;
use crate::storage::BusinessEntry;

const N1: &str = "n1";
const N2: &str = "n2";

fn directory() -> Directory {
    let mut dir = Directory::default();
    dir.neighbourhoods.extend([N1.to_owned(), N2.to_owned()]);
    for (b, n, active) in [
        ("b1", N1, true),
        ("b2", N1, true),
        ("b3", N2, true),
        ("gone", N1, false),
    ] {
        dir.businesses.insert(
            b.to_owned(),
            BusinessEntry {
                neighbourhood: n.to_owned(),
                name: b.to_owned(),
                active,
            },
        );
    }
    for (user, role, scope) in [
        ("admin", roles::ADMIN, ""),
        ("coord", roles::COORDINATOR, N1),
        ("coach", roles::COACH, "b1"),
        ("owner1", roles::OWNER, "b1"),
        ("staff1", roles::STAFF, "b1"),
        ("owner2", roles::OWNER, "b2"),
        ("owner3", roles::OWNER, "b3"),
        ("ownergone", roles::OWNER, "gone"),
        ("sandbox", roles::SANDBOX, ""),
    ] {
        dir.roles
            .entry(user.to_owned())
            .or_default()
            .push((role.to_owned(), scope.to_owned()));
        dir.active_tokens.insert(format!("t-{user}"));
    }
    dir
}

fn who(user: &str) -> Principal {
    Principal {
        user_id: user.to_owned(),
        token_hash: format!("t-{user}"),
    }
}

fn doc(kind: DocKind, n: &str, b: Option<&str>) -> DocInfo {
    // Workshops invite owner1 only.
    let invited = if kind == DocKind::Workshop {
        ["owner1".to_owned()].into()
    } else {
        Default::default()
    };
    DocInfo::Nachbar(
        Header::new(kind, n, b.map(str::to_owned), "someone", Timestamp(0)),
        invited,
    )
}

#[test]
fn every_role_against_every_document_kind() {
    use Access::{None as N, Read as R, Write as W};
    let p = DirectoryPolicy::new(directory());
    let docs = [
        ("catalogue", doc(DocKind::Catalogue, "*", None)),
        ("neighbourhood n1", doc(DocKind::Neighbourhood, N1, None)),
        ("profile b1", doc(DocKind::BusinessProfile, N1, Some("b1"))),
        ("profile b2", doc(DocKind::BusinessProfile, N1, Some("b2"))),
        (
            "profile b3 (n2)",
            doc(DocKind::BusinessProfile, N2, Some("b3")),
        ),
        (
            "profile gone",
            doc(DocKind::BusinessProfile, N1, Some("gone")),
        ),
        ("assessment b1", doc(DocKind::Assessment, N1, Some("b1"))),
        ("action plan b1", doc(DocKind::ActionPlan, N1, Some("b1"))),
        ("assessment b2", doc(DocKind::Assessment, N1, Some("b2"))),
        (
            "assessment b1 claimed in n2",
            doc(DocKind::Assessment, N2, Some("b1")),
        ),
        ("workshop n1", doc(DocKind::Workshop, N1, None)),
        ("generic", DocInfo::Generic),
    ];
    #[rustfmt::skip]
    let expected: [(&str, [Access; 12]); 10] = [
        //             cat nbh p1 p2 p3 pgone a1 ap1 a2 a1n2 ws gen
        ("admin",     [W,  W,  N, N, N, N,    N, N,  N, N,   N, N]),
        ("coord",     [R,  W,  R, R, N, N,    N, N,  N, N,   W, N]),
        ("coach",     [R,  W,  W, R, N, N,    W, W,  N, N,   W, N]),
        ("owner1",    [R,  R,  W, R, N, N,    W, W,  N, N,   R, N]),
        ("staff1",    [R,  R,  W, R, N, N,    W, W,  N, N,   N, N]),
        ("owner2",    [R,  R,  R, W, N, N,    N, N,  W, N,   N, N]),
        ("owner3",    [R,  N,  N, N, W, N,    N, N,  N, N,   N, N]),
        ("ownergone", [R,  N,  N, N, N, W,    N, N,  N, N,   N, N]),
        ("sandbox",   [N,  N,  N, N, N, N,    N, N,  N, N,   N, W]),
        ("stranger",  [N,  N,  N, N, N, N,    N, N,  N, N,   N, N]),
    ];
    for (user, row) in expected {
        for ((name, d), want) in docs.iter().zip(row) {
            assert_eq!(p.access(&who(user), d), want, "{user} on {name}");
        }
    }
}

#[test]
fn creation_needs_write_an_existing_place_and_an_honest_creator() {
    let p = DirectoryPolicy::new(directory());
    let mine = |kind, n: &str, b: Option<&str>, creator: &str| {
        DocInfo::Nachbar(
            Header::new(kind, n, b.map(str::to_owned), creator, Timestamp(0)),
            Default::default(),
        )
    };
    assert!(p.may_create(
        &who("owner1"),
        &mine(DocKind::Assessment, N1, Some("b1"), "owner1")
    ));
    assert!(
        !p.may_create(
            &who("owner1"),
            &mine(DocKind::Assessment, N1, Some("b1"), "coach")
        ),
        "created_by must be the uploader"
    );
    assert!(
        !p.may_create(
            &who("owner1"),
            &mine(DocKind::Assessment, N1, Some("b2"), "owner1")
        ),
        "another business"
    );
    assert!(
        !p.may_create(
            &who("ownergone"),
            &mine(DocKind::Assessment, N1, Some("gone"), "ownergone")
        ),
        "a business that left"
    );
    assert!(p.may_create(&who("coach"), &mine(DocKind::Workshop, N1, None, "coach")));
    assert!(!p.may_create(
        &who("coach"),
        &mine(DocKind::Workshop, "nowhere", None, "coach")
    ));
    assert!(!p.may_create(
        &who("coord"),
        &mine(DocKind::Assessment, N1, Some("b1"), "coord")
    ));
    assert!(p.may_create(&who("sandbox"), &DocInfo::Generic));
    assert!(!p.may_create(&who("owner1"), &DocInfo::Generic));
    assert!(p.token_active(&who("owner1")));
    assert!(!p.token_active(&Principal {
        user_id: "owner1".into(),
        token_hash: "revoked".into()
    }));
}
