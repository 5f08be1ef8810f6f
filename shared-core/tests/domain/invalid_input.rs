//! Every invalid input returns a typed error and leaves the document unchanged; a document of
//! the wrong kind or with a foreign shape reads as an error, never a panic.

use nachbar_core::DomainError;
use nachbar_core::automerge::transaction::Transactable;
use nachbar_core::automerge::{Automerge, ROOT, ReadDoc};
use nachbar_core::catalogue;
use nachbar_core::doc::{DocKind, Header, NachbarDoc};
use nachbar_core::label::Lang;
use nachbar_core::model::ReviewStatus;
use nachbar_core::model::action_plan::{ActionPlanDoc, MeasurePatch, NewMeasure};
use nachbar_core::model::assessment::{
    AssessmentDoc, ComplianceValue, FindingKind, NewAssessment, NewFinding,
};
use nachbar_core::model::business_profile::{BusinessProfileDoc, TopicState};
use nachbar_core::model::neighbourhood::NeighbourhoodDoc;
use nachbar_core::model::workshop::{
    BlockKind, NewBlock, NewWorkshop, WorkshopDoc, WorkshopKind, WorkshopStatus,
};
use nachbar_core::time::Timestamp;

use super::support::{actor, ctx};

fn assessment() -> AssessmentDoc {
    let new = NewAssessment {
        neighbourhood: "n",
        business: "b",
        release: catalogue::release_1_0(),
        stage: "T0",
        coach: None,
        language: Lang::En,
    };
    AssessmentDoc::create(actor(1), &ctx("coach", 0), &new)
        .unwrap()
        .0
}

fn workshop() -> WorkshopDoc {
    let new = NewWorkshop {
        title: "W".to_owned(),
        kind: WorkshopKind::KickOff,
        date: "2026-11-12".to_owned(),
        start: "09:00".to_owned(),
        end: "12:00".to_owned(),
        place: String::new(),
        host: None,
        goal: String::new(),
    };
    WorkshopDoc::create(actor(1), &ctx("coach", 0), "n", &new)
        .unwrap()
        .0
}

fn block(title: &str, minutes: u32) -> NewBlock {
    NewBlock {
        title: title.to_owned(),
        kind: BlockKind::Input,
        duration_min: minutes,
        method: None,
        goal: String::new(),
        materials: String::new(),
        expected_output: String::new(),
    }
}

/// Runs `edit` and checks it fails as `expected` says, with the heads unchanged.
fn refused<T: std::fmt::Debug>(
    doc: &NachbarDoc,
    before: &[nachbar_core::automerge::ChangeHash],
    result: Result<T, DomainError>,
    expected: fn(&DomainError) -> bool,
) {
    let err = result.expect_err("the edit must be refused");
    assert!(expected(&err), "unexpected error: {err:?}");
    assert!(!err.to_string().is_empty());
    assert_eq!(
        doc.heads(),
        before,
        "a refused edit leaves the document unchanged ({err})"
    );
}

#[test]
fn invalid_answers_are_refused_without_change() {
    let mut a = assessment();
    let c = ctx("coach", 1);
    let heads = a.inner().heads();
    type Case = (
        &'static str,
        fn(
            &mut AssessmentDoc,
            &nachbar_core::doc::EditContext,
        ) -> Result<nachbar_core::doc::Applied, DomainError>,
        fn(&DomainError) -> bool,
    );
    let cases: Vec<Case> = vec![
        (
            "level 5",
            |a, c| a.set_level(c, "A1", 5),
            |e| matches!(e, DomainError::OutOfRange { field: "level", .. }),
        ),
        (
            "level -1",
            |a, c| a.set_level(c, "A1", -1),
            |e| matches!(e, DomainError::OutOfRange { .. }),
        ),
        (
            "unknown question",
            |a, c| a.set_level(c, "Z9", 2),
            |e| matches!(e, DomainError::UnknownQuestion(q) if q == "Z9"),
        ),
        (
            "level on a compliance item",
            |a, c| a.set_level(c, "D1", 2),
            |e| matches!(e, DomainError::NotAllowed(_)),
        ),
        (
            "value on a level item",
            |a, c| a.set_compliance(c, "A1", ComplianceValue::Yes),
            |e| matches!(e, DomainError::NotAllowed(_)),
        ),
        (
            "relevance 0",
            |a, c| a.set_relevance(c, "A1", 0),
            |e| {
                matches!(
                    e,
                    DomainError::OutOfRange {
                        field: "relevance",
                        ..
                    }
                )
            },
        ),
        (
            "relevance 4",
            |a, c| a.set_relevance(c, "A1", 4),
            |e| matches!(e, DomainError::OutOfRange { .. }),
        ),
        (
            "unknown barrier",
            |a, c| a.set_barrier(c, "weather", true),
            |e| {
                matches!(
                    e,
                    DomainError::InvalidValue {
                        field: "barrier",
                        ..
                    }
                )
            },
        ),
        (
            "agreed by hand",
            |a, c| a.set_status(c, ReviewStatus::Agreed, ""),
            |e| matches!(e, DomainError::NotAllowed(_)),
        ),
        (
            "bad date",
            |a, c| a.set_date(c, "2026-02-30"),
            |e| matches!(e, DomainError::InvalidValue { field: "date", .. }),
        ),
        (
            "unknown field",
            |a, c| a.resolve(c, "answers/A1/colour", "red"),
            |e| matches!(e, DomainError::InvalidValue { field: "field", .. }),
        ),
        (
            "resolve to an invalid level",
            |a, c| a.resolve(c, "answers/A1/level", "seven"),
            |e| matches!(e, DomainError::InvalidValue { field: "level", .. }),
        ),
        (
            "unknown finding",
            |a, c| a.remove_finding(c, "0190f5c0-0000-7000-8000-00000000ffff"),
            |e| {
                matches!(
                    e,
                    DomainError::UnknownRecord {
                        kind: "finding",
                        ..
                    }
                )
            },
        ),
        (
            "empty participant",
            |a, c| a.set_participant(c, "  ", true),
            |e| matches!(e, DomainError::Empty { .. }),
        ),
    ];
    for (name, edit, expected) in cases {
        let err = edit(&mut a, &c).expect_err(name);
        assert!(expected(&err), "{name}: unexpected {err:?}");
        assert_eq!(a.inner().heads(), heads, "{name} changed the document");
    }
    let finding = NewFinding {
        area: "X".to_owned(),
        questions: vec![],
        kind: FindingKind::Risk,
        title: "t".to_owned(),
        description: String::new(),
        severity: 2,
        barriers: vec![],
    };
    refused(
        a.inner(),
        &heads,
        a.clone().add_finding(&c, &finding),
        |e| matches!(e, DomainError::InvalidValue { field: "area", .. }),
    );
    let endless = NewFinding {
        area: "A".to_owned(),
        title: "t".repeat(nachbar_core::doc::MAX_SHORT_TEXT + 1),
        ..finding.clone()
    };
    refused(
        a.inner(),
        &heads,
        a.clone().add_finding(&c, &endless),
        |e| {
            matches!(
                e,
                DomainError::TooLong {
                    field: "title",
                    max: 300
                }
            )
        },
    );
    let long_description = NewFinding {
        area: "A".to_owned(),
        description: "ü".repeat(nachbar_core::doc::MAX_LONG_TEXT + 1),
        ..finding.clone()
    };
    refused(
        a.inner(),
        &heads,
        a.clone().add_finding(&c, &long_description),
        |e| {
            matches!(
                e,
                DomainError::TooLong {
                    field: "description",
                    ..
                }
            )
        },
    );
    refused(
        a.inner(),
        &heads,
        a.clone()
            .set_answer_note(&c, "C2", &"x".repeat(nachbar_core::doc::MAX_LONG_TEXT + 1)),
        |e| matches!(e, DomainError::TooLong { field: "note", .. }),
    );
    // Exactly at the limit (in characters, not bytes) passes.
    let mut at_limit = a.clone();
    at_limit
        .set_answer_note(&c, "C2", &"ü".repeat(nachbar_core::doc::MAX_LONG_TEXT))
        .expect("at the limit");
    let blank = NewFinding {
        area: "A".to_owned(),
        title: " ".to_owned(),
        ..finding.clone()
    };
    refused(a.inner(), &heads, a.clone().add_finding(&c, &blank), |e| {
        matches!(e, DomainError::Empty { field: "title" })
    });
    let severe = NewFinding {
        area: "A".to_owned(),
        severity: 9,
        ..finding
    };
    refused(a.inner(), &heads, a.clone().add_finding(&c, &severe), |e| {
        matches!(
            e,
            DomainError::OutOfRange {
                field: "severity",
                ..
            }
        )
    });
    for i in 0..3 {
        a.add_top_pain(&c, &format!("pain {i}")).unwrap();
    }
    let heads = a.inner().heads();
    refused(
        a.inner(),
        &heads,
        a.clone().add_top_pain(&c, "a fourth"),
        |e| matches!(e, DomainError::NotAllowed(_)),
    );
}

#[test]
fn invalid_plan_workshop_and_profile_edits_are_refused() {
    let c = ctx("coach", 1);
    let (mut plan, _) = ActionPlanDoc::create(actor(1), &c, "n", "b").unwrap();
    let heads = plan.inner().heads();
    refused(
        plan.inner(),
        &heads,
        plan.clone().add_measure(&c, &NewMeasure::default()),
        |e| matches!(e, DomainError::Empty { field: "title" }),
    );
    let bad = NewMeasure {
        title: "m".to_owned(),
        impact: Some(6),
        ..NewMeasure::default()
    };
    refused(
        plan.inner(),
        &heads,
        plan.clone().add_measure(&c, &bad),
        |e| {
            matches!(
                e,
                DomainError::OutOfRange {
                    field: "impact",
                    ..
                }
            )
        },
    );
    let (m, _) = plan
        .add_measure(
            &c,
            &NewMeasure {
                title: "m".to_owned(),
                ..NewMeasure::default()
            },
        )
        .unwrap();
    let heads = plan.inner().heads();
    let due = MeasurePatch {
        due: Some("15.12.2026".to_owned()),
        ..MeasurePatch::default()
    };
    refused(
        plan.inner(),
        &heads,
        plan.clone().update_measure(&c, &m, &due),
        |e| matches!(e, DomainError::InvalidValue { field: "due", .. }),
    );
    let cost = MeasurePatch {
        cost_once_eur: Some(-5),
        ..MeasurePatch::default()
    };
    refused(
        plan.inner(),
        &heads,
        plan.clone().update_measure(&c, &m, &cost),
        |e| matches!(e, DomainError::OutOfRange { .. }),
    );
    refused(
        plan.inner(),
        &heads,
        plan.clone().merge_measures(&c, &m, &m),
        |e| matches!(e, DomainError::NotAllowed(_)),
    );
    refused(
        plan.inner(),
        &heads,
        plan.clone().move_measure(&c, &m, Some("nope"), None),
        |e| matches!(e, DomainError::UnknownRecord { .. }),
    );
    refused(
        plan.inner(),
        &heads,
        plan.clone()
            .resolve(&c, &format!("measures/{m}/status"), "finished"),
        |e| {
            matches!(
                e,
                DomainError::InvalidValue {
                    field: "measure status",
                    ..
                }
            )
        },
    );

    let mut w = workshop();
    let heads = w.inner().heads();
    refused(
        w.inner(),
        &heads,
        w.clone().add_block(&c, &block("", 10), None),
        |e| matches!(e, DomainError::Empty { .. }),
    );
    refused(
        w.inner(),
        &heads,
        w.clone()
            .add_block(&c, &block("day and a half", 2000), None),
        |e| matches!(e, DomainError::OutOfRange { .. }),
    );
    refused(
        w.inner(),
        &heads,
        w.clone().set_times(&c, "12:00", "09:00"),
        |e| matches!(e, DomainError::NotAllowed(_)),
    );
    refused(
        w.inner(),
        &heads,
        w.clone().set_times(&c, "25:00", "26:00"),
        |e| matches!(e, DomainError::InvalidValue { .. }),
    );
    let (b, _) = w.add_block(&c, &block("Impuls", 20), None).unwrap();
    w.set_status(&c, WorkshopStatus::Held).unwrap();
    let heads = w.inner().heads();
    refused(
        w.inner(),
        &heads,
        w.clone().set_block_duration(&c, &b, 30),
        |e| matches!(e, DomainError::NotAllowed(m) if m.contains("frozen")),
    );
    refused(
        w.inner(),
        &heads,
        w.clone().add_block(&c, &block("late", 5), None),
        |e| matches!(e, DomainError::NotAllowed(_)),
    );
    w.record_actual(&c, &b, Some(25), Some("ran long"))
        .expect("actual times stay editable after the workshop");

    let (p, _) = BusinessProfileDoc::create(actor(1), &c, "n", "b", "Name", "", None).unwrap();
    let heads = p.inner().heads();
    refused(
        p.inner(),
        &heads,
        p.clone().set_topic_state(&c, "Q", Some(TopicState::Solved)),
        |e| matches!(e, DomainError::InvalidValue { field: "area", .. }),
    );
    refused(
        p.inner(),
        &heads,
        p.clone().change_seat_interest(&c, "offer", 5000),
        |e| matches!(e, DomainError::OutOfRange { .. }),
    );
    refused(p.inner(), &heads, p.clone().set_display_name(&c, ""), |e| {
        matches!(e, DomainError::Empty { .. })
    });

    let (n, _) = NeighbourhoodDoc::create(actor(1), &c, "n", "Hood", "").unwrap();
    let heads = n.inner().heads();
    refused(
        n.inner(),
        &heads,
        n.clone().set_aggregate_threshold(&c, 2),
        |e| matches!(e, DomainError::OutOfRange { .. }),
    );
    refused(
        n.inner(),
        &heads,
        n.clone().member_left(&c, "ghost", "2026-11-01"),
        |e| matches!(e, DomainError::UnknownRecord { .. }),
    );
}

#[test]
fn header_edits_are_refused_and_rolled_back() {
    let mut a = assessment();
    let heads = a.inner().heads();
    let result = a.inner_mut().edit(&ctx("coach", 1), "sneaky", |tx| {
        let header = tx.get(ROOT, "nachbar")?.expect("header").1;
        tx.put(&header, "business", "another-business")?;
        Ok(())
    });
    assert!(matches!(result, Err(DomainError::HeaderImmutable)));
    assert_eq!(a.inner().heads(), heads);
    assert_eq!(a.inner().header().business.as_deref(), Some("b"));
    let result = a.inner_mut().edit(&ctx("coach", 1), "sneakier", |tx| {
        Ok(tx.delete(ROOT, "nachbar")?)
    });
    assert!(matches!(result, Err(DomainError::HeaderImmutable)));
    assert_eq!(a.inner().heads(), heads);
}

#[test]
fn a_newer_major_schema_reads_but_refuses_edits() {
    let mut header = Header::new(
        DocKind::ActionPlan,
        "n",
        Some("b".to_owned()),
        "coach",
        Timestamp(0),
    );
    header.schema = "2.3".to_owned();
    let (doc, _) = NachbarDoc::create(actor(1), &ctx("coach", 0), header, |tx| {
        for key in ["goals", "measures", "sign_offs"] {
            tx.put_object(ROOT, key, nachbar_core::automerge::ObjType::Map)?;
        }
        Ok(())
    })
    .unwrap();
    let mut plan = ActionPlanDoc::open(doc).unwrap();
    assert!(plan.view().is_ok(), "readable on a best-effort basis");
    let err = plan.add_goal(&ctx("coach", 1), "g", "", None).unwrap_err();
    assert!(matches!(err, DomainError::NewerSchema { ref found, .. } if found == "2.3"));
    assert!(err.to_string().contains("update the app"));
}

#[test]
fn wrong_kinds_foreign_shapes_and_garbage_are_errors() {
    let w = workshop();
    let err = AssessmentDoc::open(w.into_inner()).unwrap_err();
    assert!(matches!(
        err,
        DomainError::WrongKind {
            expected: DocKind::Assessment,
            found: DocKind::Workshop
        }
    ));

    // A generic automerge document has no header.
    let mut generic = Automerge::new();
    generic
        .transact::<_, _, nachbar_core::automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "hello", "world").map(|_| ())
        })
        .unwrap();
    assert!(matches!(
        NachbarDoc::from_automerge(generic.clone()),
        Err(DomainError::MissingHeader)
    ));
    assert!(matches!(
        NachbarDoc::load(&generic.save(), actor(2)),
        Err(DomainError::MissingHeader)
    ));
    assert!(matches!(
        NachbarDoc::load(b"not automerge at all", actor(2)),
        Err(DomainError::Shape { .. })
    ));

    // A header of the right kind over a foreign body: errors on read, never a panic.
    let foreign = |body: fn(
        &mut nachbar_core::automerge::transaction::Transaction<'_>,
    ) -> Result<(), DomainError>| {
        let header = Header::new(
            DocKind::Assessment,
            "n",
            Some("b".to_owned()),
            "x",
            Timestamp(0),
        );
        AssessmentDoc::open(
            NachbarDoc::create(actor(3), &ctx("x", 0), header, body)
                .unwrap()
                .0,
        )
        .unwrap()
    };
    let no_body = foreign(|_| Ok(()));
    assert!(matches!(
        no_body.view(),
        Err(DomainError::UnknownRelease(_))
    ));
    let text_answers = foreign(|tx| {
        tx.put(ROOT, "catalogue_release", "1.0")?;
        tx.put(ROOT, "answers", "everything is fine")?;
        Ok(())
    });
    assert!(
        matches!(text_answers.view(), Err(DomainError::Shape { .. })),
        "{:?}",
        text_answers.view()
    );
    let wild_level = foreign(|tx| {
        tx.put(ROOT, "catalogue_release", "1.0")?;
        let answers = tx.put_object(ROOT, "answers", nachbar_core::automerge::ObjType::Map)?;
        let a1 = tx.put_object(&answers, "A1", nachbar_core::automerge::ObjType::Map)?;
        tx.put(&a1, "level", 9)?;
        Ok(())
    });
    match wild_level.view() {
        Err(DomainError::Shape { path, .. }) => assert_eq!(path, "answers/A1/level"),
        other => panic!("expected a shape error, got {other:?}"),
    }
    let header_as_text = {
        let mut doc = Automerge::new();
        doc.transact::<_, _, nachbar_core::automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "nachbar", "assessment").map(|_| ())
        })
        .unwrap();
        doc
    };
    assert!(matches!(
        NachbarDoc::from_automerge(header_as_text),
        Err(DomainError::Shape { .. })
    ));
}

#[test]
fn a_collection_holds_a_bounded_number_of_records() {
    let c = ctx("coordinator", 1);
    let (mut hood, _) = NeighbourhoodDoc::create(actor(1), &c, "n", "Hood", "").unwrap();
    let meeting =
        |h: &mut NeighbourhoodDoc| h.add_meeting(&c, "Stammtisch", "2030-01-01", None, "", None);
    for _ in 0..nachbar_core::model::MAX_RECORDS {
        meeting(&mut hood).unwrap();
    }
    let heads = hood.inner().heads();
    refused(hood.inner(), &heads, meeting(&mut hood.clone()), |e| {
        matches!(e, DomainError::TooMany { max: 1000, .. })
    });
}
