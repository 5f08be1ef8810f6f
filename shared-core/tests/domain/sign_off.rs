//! "Agreed" is derived from content: a sign-off stays valid through other sign-offs and status
//! bookkeeping, and no change message keeps it valid through a content edit.

use automerge::transaction::Transactable;
use automerge::{ROOT, ReadDoc};
use nachbar_core::catalogue;
use nachbar_core::label::Lang;
use nachbar_core::model::assessment::{AssessmentDoc, NewAssessment};
use nachbar_core::model::{ReviewStatus, SignOffRole};

use super::support::{actor, ctx, replica, sync_all};

fn agreed_assessment() -> (AssessmentDoc, AssessmentDoc) {
    let new = NewAssessment {
        neighbourhood: "n",
        business: "b",
        release: catalogue::release_1_0(),
        stage: "T0",
        coach: Some("coach"),
        language: Lang::De,
    };
    let (mut coach, _) = AssessmentDoc::create(actor(1), &ctx("coach", 0), &new).unwrap();
    coach.set_level(&ctx("coach", 1), "C2", 3).unwrap();
    let mut owner = AssessmentDoc::open(replica(coach.inner(), 2)).unwrap();
    coach
        .sign_off(&ctx("coach", 2), SignOffRole::Coach)
        .unwrap();
    sync_all(&mut [coach.inner_mut(), owner.inner_mut()]);
    owner
        .sign_off(&ctx("owner", 3), SignOffRole::Owner)
        .unwrap();
    sync_all(&mut [coach.inner_mut(), owner.inner_mut()]);
    (coach, owner)
}

#[test]
fn sign_offs_and_status_keep_an_agreement_and_content_labelled_sign_off_does_not() {
    let (mut coach, owner) = agreed_assessment();
    let view = owner.view().unwrap();
    assert!(view.agreed, "both sign-offs cover the content");
    assert_eq!(view.status, ReviewStatus::Agreed);
    // The coach signs again (bookkeeping only): still agreed.
    coach
        .sign_off(&ctx("coach", 4), SignOffRole::Coach)
        .unwrap();
    assert!(coach.view().unwrap().agreed);

    // A writer changes an answer but labels the change as a sign-off.
    let (_, _) = coach
        .inner_mut()
        .edit(&ctx("coach", 5), "sign-off", |tx| {
            let answers = tx.get(ROOT, "answers").unwrap().unwrap().1;
            let c2 = tx.get(&answers, "C2").unwrap().unwrap().1;
            tx.put(&c2, "level", 0_i64)?;
            Ok(())
        })
        .unwrap();
    let view = coach.view().unwrap();
    assert!(!view.agreed, "the content changed");
    assert_eq!(view.status, ReviewStatus::InReview);
    assert!(view.sign_offs.iter().all(|s| !s.valid));
}

#[test]
fn a_sign_off_of_a_shown_version_is_refused_once_the_content_moved_on() {
    use nachbar_core::DomainError;
    use nachbar_core::model::action_plan::{ActionPlanDoc, NewMeasure};
    let (mut plan, _) = ActionPlanDoc::create(actor(1), &ctx("coach", 0), "n", "b").unwrap();
    let new = NewMeasure {
        title: "Funktionspostfach".to_owned(),
        ..NewMeasure::default()
    };
    plan.add_measure(&ctx("coach", 1), &new).unwrap();
    let shown = plan.inner().heads();
    // The coach signs meanwhile: bookkeeping only, the owner's page is still current.
    plan.sign_off(&ctx("coach", 2), SignOffRole::Coach).unwrap();
    plan.sign_off_seen(&ctx("owner", 3), SignOffRole::Owner, &shown)
        .unwrap();
    let view = plan.view().unwrap();
    assert!(view.agreed);
    let owner = view
        .sign_offs
        .iter()
        .find(|s| s.role == SignOffRole::Owner)
        .unwrap();
    let shown_hex: Vec<String> = shown.iter().map(ToString::to_string).collect();
    assert_eq!(owner.heads, shown_hex, "bound to the version shown");

    // A measure added after the page was shown: the shown version is stale.
    let shown = plan.inner().heads();
    plan.add_measure(&ctx("coach", 4), &new).unwrap();
    let before = plan.inner().heads();
    let err = plan
        .sign_off_seen(&ctx("owner", 5), SignOffRole::Owner, &shown)
        .unwrap_err();
    assert!(matches!(err, DomainError::ChangedSince), "{err}");
    assert_eq!(plan.inner().heads(), before, "nothing written");
    // Unknown or no heads: refused the same way.
    let err = plan
        .sign_off_seen(&ctx("owner", 6), SignOffRole::Owner, &[])
        .unwrap_err();
    assert!(matches!(err, DomainError::ChangedSince));
    // A superseded plan is signed off by nobody.
    let _in_memory = plan
        .set_status(&ctx("coach", 7), ReviewStatus::Superseded, "T1 plan")
        .unwrap();
    let current = plan.inner().heads();
    let err = plan
        .sign_off_seen(&ctx("owner", 8), SignOffRole::Owner, &current)
        .unwrap_err();
    assert!(matches!(err, DomainError::NotAllowed(_)), "{err}");
}
