//! Accounts as clients see them, and the rules of what makes a valid one.

use super::sessions::CodeSession;
use serde::{Deserialize, Serialize};

/// A user as any client may see them: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub email: Option<String>,
    pub is_guest: bool,
    pub is_reviewer: bool,
    pub reviewer_level: i16,
    /// The name a provider gave at sign-up, if any.
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// A sign-in provider the server is configured for (its button on the sign-in page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    /// `github`, `google`, or the name of an OpenID Connect provider.
    pub id: String,
    /// What its button says.
    pub name: String,
}

/// One account at a provider linked to the caller's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub provider: String,
    /// The provider's name, or its id when it is no longer configured.
    pub provider_name: String,
    pub email: Option<String>,
    pub linked_at: chrono::DateTime<chrono::Utc>,
}

/// The ways the caller can sign in, and the providers they could link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInMethods {
    pub password: bool,
    pub identities: Vec<Identity>,
    /// Configured providers not linked yet.
    pub linkable: Vec<Provider>,
}

/// What "try without an account" gives: a guest user, signed in, with a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuestStart {
    pub user: User,
    pub session: CodeSession,
}

/// Rules shared by the registration form and the server.
pub mod rules {
    use crate::AppError;

    pub fn username(name: &str) -> Result<(), AppError> {
        let ok_chars = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !(3..=32).contains(&name.len()) || !ok_chars {
            return Err(AppError::invalid(
                "a username has 3 to 32 characters: letters, digits, '_', '-' or '.'",
            ));
        }
        if name.to_ascii_lowercase().starts_with("guest-") {
            return Err(AppError::invalid(
                "usernames starting with 'guest-' are reserved",
            ));
        }
        Ok(())
    }

    pub fn email(email: &str) -> Result<(), AppError> {
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            });
        if valid {
            Ok(())
        } else {
            Err(AppError::invalid("that is not an email address"))
        }
    }

    pub fn password(password: &str) -> Result<(), AppError> {
        match password.chars().count() {
            n if n < 8 => Err(AppError::invalid("a password has at least 8 characters")),
            n if n > 128 => Err(AppError::invalid("a password has at most 128 characters")),
            _ => Ok(()),
        }
    }
}
