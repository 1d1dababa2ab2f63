//! The types both sides share: what the API takes and returns, the terminal
//! socket's and the events stream's messages, and the rules both sides check.
//! Serde forms here are the public API; rename nothing without a migration path.

#[macro_use]
mod macros {
    macro_rules! text_enum {
        ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $id:literal),+ $(,)? }) => {
            $(#[$m])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
            #[serde(rename_all = "snake_case")]
            #[cfg_attr(feature = "ssr", derive(sqlx::Type))]
            #[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
            pub enum $name { $($(#[$vm])* $variant),+ }

            impl $name {
                pub const ALL: &'static [$name] = &[$($name::$variant),+];

                pub fn id(self) -> &'static str {
                    match self { $($name::$variant => $id),+ }
                }

                /// Parses an id, or says which ones there are.
                pub fn parse(id: &str) -> Result<Self, String> {
                    Self::ALL.iter().copied().find(|v| v.id() == id).ok_or_else(|| {
                        let ids: Vec<&str> = Self::ALL.iter().map(|v| v.id()).collect();
                        format!("unknown {} '{id}'; one of {}", stringify!($name).to_lowercase(), ids.join(", "))
                    })
                }
            }
        };
    }
}

pub mod access;
pub mod assistant;
pub mod auth;
pub mod events;
pub mod files;
pub mod history;
pub mod links;
pub mod reviews;
pub mod runs;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod sharing;
pub mod terminal;
