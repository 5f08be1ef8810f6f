//! Whose sign-off counts: a sign-off is valid for the pages only when it still covers the
//! content (the core's rule) and its signer holds the role it signed as in the directory now
//! (an owner's sign-off by an owner of the business, a coach's by one of its coaches). A
//! sign-off a writer recorded under a role they do not hold (staff syncing an "owner" entry)
//! is shown, marked, and does not count.

use nachbar_core::model::{ReviewStatus, SignOffRole, SignOffView};

/// The people who may sign off for a business.
#[derive(Debug, Clone, Copy)]
pub struct Signers<'a> {
    /// User ids of its owners.
    pub owners: &'a [String],
    /// User ids of its coaches.
    pub coaches: &'a [String],
}

impl Signers<'_> {
    /// Whether `user` holds `role` for the business.
    pub fn holds(&self, user: &str, role: SignOffRole) -> bool {
        let list = match role {
            SignOffRole::Owner => self.owners,
            SignOffRole::Coach => self.coaches,
        };
        list.iter().any(|u| u == user)
    }

    /// Whether the sign-off counts.
    pub fn counts(&self, s: &SignOffView) -> bool {
        s.valid && self.holds(&s.by, s.role)
    }

    /// Whether owner and coach agreed: each role has a sign-off that counts.
    pub fn agreed(&self, sign_offs: &[SignOffView]) -> bool {
        SignOffRole::ALL
            .iter()
            .all(|r| sign_offs.iter().any(|s| s.role == *r && self.counts(s)))
    }

    /// The status to show: "agreed" only when the sign-offs that count agree.
    pub fn status(&self, status: ReviewStatus, sign_offs: &[SignOffView]) -> ReviewStatus {
        match status {
            ReviewStatus::Agreed if !self.agreed(sign_offs) => ReviewStatus::InReview,
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_off(role: SignOffRole, by: &str, valid: bool) -> SignOffView {
        SignOffView {
            role,
            by: by.to_owned(),
            at: 0,
            heads: vec![],
            valid,
        }
    }

    #[test]
    fn only_a_signer_holding_the_role_counts() {
        let owners = vec!["owner".to_owned()];
        let coaches = vec!["coach".to_owned()];
        let s = Signers {
            owners: &owners,
            coaches: &coaches,
        };
        let honest = [
            sign_off(SignOffRole::Owner, "owner", true),
            sign_off(SignOffRole::Coach, "coach", true),
        ];
        assert!(s.agreed(&honest));
        assert_eq!(
            s.status(ReviewStatus::Agreed, &honest),
            ReviewStatus::Agreed
        );
        // Staff recorded an "owner" sign-off: shown as agreed by the core, not by the page.
        let forged = [
            sign_off(SignOffRole::Owner, "staff", true),
            sign_off(SignOffRole::Coach, "coach", true),
        ];
        assert!(!s.agreed(&forged));
        assert_eq!(
            s.status(ReviewStatus::Agreed, &forged),
            ReviewStatus::InReview
        );
        // A lapsed one never counts; nor a coach no longer assigned.
        assert!(!s.counts(&sign_off(SignOffRole::Owner, "owner", false)));
        let none: Vec<String> = vec![];
        let unassigned = Signers {
            owners: &owners,
            coaches: &none,
        };
        assert!(!unassigned.agreed(&honest));
    }
}
