//! Closed lists of codes (kinds, choices, relationships), each with a stable code and a plain-English label.

/// Declares an enum whose variants have a stable snake_case code (used in the API and the
/// database) and a plain-English label (used in messages), with parsing that names the allowed codes.
macro_rules! vocabulary {
    (
        $(#[$doc:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vdoc:meta])* $variant:ident = $code:literal, $label:literal; )+
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vdoc])* #[serde(rename = $code)] $variant, )+
        }

        impl $name {
            /// Every value, in the order they are offered to users.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stable code used in the API and the database.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)+
                }
            }

            /// The plain-English words shown to staff.
            pub const fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)+
                }
            }

            /// Parses a stable code, naming the allowed codes when it is not one.
            pub fn parse(input: &str) -> Result<Self, $crate::error::DomainError> {
                match input.trim() {
                    $($code => Ok(Self::$variant),)+
                    _ => Err($crate::error::DomainError::UnknownValue {
                        what: $what,
                        input: input.chars().take(60).collect(),
                        known: Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                    }),
                }
            }
        }

        // Written out rather than derived: a derive cannot see the codes through this macro,
        // and would document the variant names instead of what the API sends.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($code),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::DomainError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

pub(crate) use vocabulary;
