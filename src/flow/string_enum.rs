//! `string_enum!`: a closed set of values with one stored spelling each.

/// The error of parsing a `string_enum!` enum from a spelling it does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownVariant {
    /// The enum's name.
    pub what: &'static str,
    /// What was read.
    pub found: String,
}

impl std::fmt::Display for UnknownVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown {} `{}`", self.what, self.found)
    }
}

impl std::error::Error for UnknownVariant {}

/// Defines an enum whose variants each have one spelling, used everywhere
/// the value leaves the program: serde (JSON), `Display`/`FromStr`, and as
/// a bound SQL parameter or column (`ToSql`/`FromSql`), so a query binds
/// `VolumeStatus::Available` rather than writing `'available'`.
///
/// ```
/// volctl::string_enum! {
///     /// A colour.
///     Colour { /// Red.
///              Red = "red", /// Sky blue.
///              SkyBlue = "sky-blue" }
/// }
/// assert_eq!(Colour::SkyBlue.to_string(), "sky-blue");
/// assert_eq!("red".parse::<Colour>(), Ok(Colour::Red));
/// assert_eq!(serde_json::to_string(&Colour::SkyBlue).unwrap(), "\"sky-blue\"");
/// assert_eq!(Colour::ALL.len(), 2);
/// ```
#[macro_export]
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $v),* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),*];

            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),* }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::flow::UnknownVariant;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                match s {
                    $($s => Ok($name::$v),)*
                    _ => Err($crate::flow::UnknownVariant { what: stringify!($name), found: s.to_string() }),
                }
            }
        }

        impl ::rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> ::rusqlite::Result<::rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl ::rusqlite::types::FromSql for $name {
            fn column_result(v: ::rusqlite::types::ValueRef<'_>) -> ::rusqlite::types::FromSqlResult<Self> {
                v.as_str()?
                    .parse()
                    .map_err(|e| ::rusqlite::types::FromSqlError::Other(Box::new(e)))
            }
        }
    };
}
