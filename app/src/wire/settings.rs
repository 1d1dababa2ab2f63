//! A user's preferences: the IDE's theme, the editor's and the terminal's.
//! Kept on the server; pages render with them from the first byte (the server
//! reads them from a cookie it keeps in step), so nothing flashes.

use crate::AppError;
use serde::{Deserialize, Serialize};

text_enum!(
    /// The colours of the whole IDE, Monaco and the terminal included.
    Theme {
        Dark = "dark",
        Light = "light",
        HighContrast = "high_contrast",
    }
);

impl Theme {
    pub fn label(self) -> &'static str {
        match self {
            Self::Dark => "Dark",
            Self::Light => "Light",
            Self::HighContrast => "High contrast",
        }
    }
}

/// Every field has a default, so older stored settings (and clients) still parse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub theme: Theme,
    pub editor_font_size: u32,
    pub terminal_font_size: u32,
    pub tab_size: u32,
    pub word_wrap: bool,
    pub minimap: bool,
    /// Lines the terminal keeps above the screen.
    pub scrollback: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            theme: Theme::Dark,
            editor_font_size: 13,
            terminal_font_size: 13,
            tab_size: 4,
            word_wrap: false,
            minimap: false,
            scrollback: 5000,
        }
    }
}

pub const FONT_SIZES: std::ops::RangeInclusive<u32> = 8..=32;
pub const TAB_SIZES: std::ops::RangeInclusive<u32> = 1..=8;
pub const SCROLLBACK: std::ops::RangeInclusive<u32> = 100..=100_000;

impl Settings {
    /// 422 naming the first value out of its range.
    pub fn validate(&self) -> Result<(), AppError> {
        let check = |what: &str, v: u32, r: std::ops::RangeInclusive<u32>| {
            if r.contains(&v) {
                Ok(())
            } else {
                Err(AppError::invalid(format!(
                    "{what} is {} to {}, not {v}",
                    r.start(),
                    r.end()
                )))
            }
        };
        check("the editor's font size", self.editor_font_size, FONT_SIZES)?;
        check(
            "the terminal's font size",
            self.terminal_font_size,
            FONT_SIZES,
        )?;
        check("the tab size", self.tab_size, TAB_SIZES)?;
        check("the terminal's scrollback", self.scrollback, SCROLLBACK)
    }

    /// The form kept in the preferences cookie and on the page (`data-prefs`).
    pub fn to_compact(&self) -> String {
        serde_json::to_string(self).expect("plain fields serialise")
    }

    /// Settings read back from their compact form; anything unreadable or out of
    /// range gives none (the defaults apply).
    pub fn from_compact(s: &str) -> Option<Self> {
        let s: Self = serde_json::from_str(s).ok()?;
        s.validate().ok().map(|_| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_or_partial_settings_take_defaults() {
        let s = Settings::from_compact(r#"{"theme":"light"}"#).unwrap();
        assert_eq!(s.theme, Theme::Light);
        assert_eq!(s.tab_size, 4);
        assert!(Settings::from_compact(r#"{"tab_size":99}"#).is_none());
        assert!(Settings::from_compact("garbage").is_none());
        let d = Settings::default();
        assert_eq!(Settings::from_compact(&d.to_compact()), Some(d));
    }
}
