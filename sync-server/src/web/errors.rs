//! Errors shown next to a form's fields, in the page's language, from the domain's typed
//! errors and the web app's own checks.

use std::collections::BTreeMap;

use nachbar_core::DomainError;
use nachbar_core::label::Lang;

/// Messages by field name; `_form` for the form as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    /// No errors.
    pub fn none() -> Self {
        FieldErrors::default()
    }

    /// One error at `field`.
    pub fn at(field: &str, message: impl Into<String>) -> Self {
        let mut e = FieldErrors::default();
        e.0.insert(field.to_owned(), message.into());
        e
    }

    /// The message of `field`, or "".
    pub fn of(&self, field: &str) -> &str {
        self.0.get(field).map_or("", String::as_str)
    }

    /// Whether `field` has an error.
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// Whether there are errors.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

/// The field a domain error is about and its message in `lang`.
pub fn domain(err: &DomainError, lang: Lang) -> FieldErrors {
    let de = lang == Lang::De;
    let (field, msg) = match err {
        DomainError::Empty { field } => (
            (*field).to_owned(),
            if de {
                "Bitte ausfüllen.".to_owned()
            } else {
                "Please fill this in.".to_owned()
            },
        ),
        DomainError::OutOfRange {
            field, min, max, ..
        } => (
            (*field).to_owned(),
            if de {
                format!("Bitte einen Wert von {min} bis {max} angeben.")
            } else {
                format!("Please give a value from {min} to {max}.")
            },
        ),
        DomainError::TooLong { field, max } => (
            (*field).to_owned(),
            if de {
                format!("Bitte höchstens {max} Zeichen.")
            } else {
                format!("Please use at most {max} characters.")
            },
        ),
        DomainError::InvalidValue { field, .. } => (
            (*field).to_owned(),
            match (*field, de) {
                ("date", true) => "Bitte ein Datum angeben (TT.MM.JJJJ).".to_owned(),
                ("date", false) => "Please give a date.".to_owned(),
                ("start" | "end", true) => "Bitte eine Uhrzeit angeben (HH:MM).".to_owned(),
                ("start" | "end", false) => "Please give a time (HH:MM).".to_owned(),
                (_, true) => "Dieser Wert ist nicht möglich.".to_owned(),
                (_, false) => "This value is not possible.".to_owned(),
            },
        ),
        DomainError::NotAllowed(why) => (
            "_form".to_owned(),
            if de {
                format!("Das geht gerade nicht ({why}).")
            } else {
                format!("That is not possible now ({why}).")
            },
        ),
        other => (
            "_form".to_owned(),
            if de {
                format!("Das wurde nicht gespeichert ({other}).")
            } else {
                format!("That was not saved ({other}).")
            },
        ),
    };
    FieldErrors::at(&field, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_land_at_their_field_in_both_languages() {
        let e = domain(&DomainError::Empty { field: "title" }, Lang::De);
        assert_eq!(e.of("title"), "Bitte ausfüllen.");
        let e = domain(
            &DomainError::InvalidValue {
                field: "start",
                value: "25:00".to_owned(),
            },
            Lang::En,
        );
        assert!(e.of("start").contains("HH:MM"));
        let e = domain(&DomainError::NotAllowed("frozen".to_owned()), Lang::En);
        assert!(e.has("_form") && !e.has("title"));
    }
}
