//! User-facing texts of the domain in German and English.

use serde::{Deserialize, Serialize};

/// A text in both languages the product ships with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Label {
    /// German text.
    pub de: &'static str,
    /// English text.
    pub en: &'static str,
}

impl Label {
    /// The text in the given language.
    pub fn get(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::De => self.de,
            Lang::En => self.en,
        }
    }
}

/// A language of the user interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// German (the default: the neighbourhoods are German).
    #[default]
    De,
    /// English.
    En,
}

/// A value with a user-facing name in German and English.
pub trait Labelled {
    /// The name shown to users.
    fn label(&self) -> Label;
}

/// Declares a string-coded enum with its stored code and its labels in German and English.
///
/// Each variant is stored in documents as its code; parsing an unknown code is an error
/// naming the field.
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $field:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $de:literal, $en:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code stored in documents.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// Parses a stored code.
            ///
            /// # Errors
            /// [`DomainError::InvalidValue`](crate::DomainError::InvalidValue) for an unknown code.
            pub fn parse(code: &str) -> Result<Self, crate::DomainError> {
                match code {
                    $($code => Ok($name::$variant),)+
                    other => Err(crate::DomainError::InvalidValue {
                        field: $field,
                        value: other.to_owned(),
                    }),
                }
            }
        }

        impl $crate::label::Labelled for $name {
            fn label(&self) -> $crate::label::Label {
                match self { $($name::$variant => $crate::label::Label { de: $de, en: $en },)+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

pub(crate) use coded_enum;
