//! What a file holds: text (valid UTF-8 without NUL, editable, searchable) or
//! bytes with a media type. The same rule decides for uploads, the sandbox's
//! files and restored versions, so a file never changes kind by the way it came in.

use crate::wire::files::Encoding;
use crate::AppError;
use base64::Engine;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Text(String),
    Binary { bytes: Vec<u8>, media_type: String },
}

impl Body {
    /// Text when `bytes` can be (Postgres text holds no NUL), else binary with
    /// the media type its name or its first bytes tell.
    pub fn from_bytes(path: &str, bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) if !text.contains('\0') => Body::Text(text),
            Ok(text) => Self::binary(path, text.into_bytes()),
            Err(e) => Self::binary(path, e.into_bytes()),
        }
    }

    fn binary(path: &str, bytes: Vec<u8>) -> Self {
        let media_type = media_type(path, &bytes).to_string();
        Body::Binary { bytes, media_type }
    }

    /// Content as the JSON API carries it: text as it is, bytes in base64.
    pub fn decode(
        path: &str,
        content: String,
        encoding: Option<Encoding>,
    ) -> Result<Self, AppError> {
        match encoding {
            None | Some(Encoding::Utf8) => Ok(Body::from_bytes(path, content.into_bytes())),
            Some(Encoding::Base64) => Ok(Body::from_bytes(path, from_base64(path, &content)?)),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Text(t) => t.as_bytes(),
            Body::Binary { bytes, .. } => bytes,
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Body::Text(t) => t.into_bytes(),
            Body::Binary { bytes, .. } => bytes,
        }
    }

    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `content` column's value: text files only.
    pub fn text(&self) -> Option<&str> {
        match self {
            Body::Text(t) => Some(t),
            Body::Binary { .. } => None,
        }
    }

    /// The `data` column's value: binary files only.
    pub fn data(&self) -> Option<&[u8]> {
        match self {
            Body::Text(_) => None,
            Body::Binary { bytes, .. } => Some(bytes),
        }
    }

    pub fn media_type(&self) -> Option<&str> {
        match self {
            Body::Text(_) => None,
            Body::Binary { media_type, .. } => Some(media_type),
        }
    }
}

/// The media type of a binary file: by its extension, else by its first bytes.
pub fn media_type(path: &str, bytes: &[u8]) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let by_name = match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        "ico" => "image/x-icon",
        "avif" => "image/avif",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "wasm" => "application/wasm",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "sqlite" | "db" => "application/vnd.sqlite3",
        _ => "",
    };
    if !by_name.is_empty() {
        return by_name;
    }
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF8", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"\x1f\x8b", "application/gzip"),
        (b"\x7fELF", "application/x-executable"),
        (b"\0asm", "application/wasm"),
        (b"SQLite format 3\0", "application/vnd.sqlite3"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| bytes.starts_with(m))
        .map_or("application/octet-stream", |(_, t)| t)
}

/// Bytes from base64, or a 422 naming `what` they were to be.
pub fn from_base64(what: &str, text: &str) -> Result<Vec<u8>, AppError> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| AppError::invalid(format!("{what}: not valid base64 ({e})")))
}

/// Bytes as the JSON API carries them.
pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_utf8_without_nul_and_the_rest_is_typed() {
        assert_eq!(
            Body::from_bytes("a.txt", b"hi\n".to_vec()),
            Body::Text("hi\n".into())
        );
        let png = b"\x89PNG\r\n\x1a\n\0\0".to_vec();
        assert_eq!(
            Body::from_bytes("logo", png).media_type(),
            Some("image/png")
        );
        assert_eq!(
            Body::from_bytes("a.jpg", vec![0xff, 0]).media_type(),
            Some("image/jpeg")
        );
        assert_eq!(
            Body::from_bytes("nul.txt", b"a\0b".to_vec()).media_type(),
            Some("application/octet-stream")
        );
        assert_eq!(
            Body::from_bytes("prog", b"\x7fELF\x02\x01\x01\0".to_vec()).media_type(),
            Some("application/x-executable")
        );
    }

    #[test]
    fn base64_content_is_decoded_or_refused_by_name() {
        let b = Body::decode("x.bin", base64(&[0, 1, 2]), Some(Encoding::Base64)).unwrap();
        assert_eq!(b.as_bytes(), &[0, 1, 2]);
        // Base64 of text is text: the kind follows the bytes, not the encoding.
        let t = Body::decode("x.py", base64(b"print(1)"), Some(Encoding::Base64)).unwrap();
        assert_eq!(t, Body::Text("print(1)".into()));
        let e = Body::decode("bad.bin", "@@".into(), Some(Encoding::Base64)).unwrap_err();
        assert!(e.to_string().contains("bad.bin"), "{e}");
    }
}
