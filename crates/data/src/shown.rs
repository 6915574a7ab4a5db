//! Paths and names from the user's disk as this crate's errors show them. A file name
//! may hold a newline, a terminal escape sequence or bytes that are not UTF-8; printed
//! raw, it would break the one-line error in two (forging a second line), restyle the
//! terminal, or hide its real bytes behind `�`. So every error that names a user path
//! or a name taken from one goes through these helpers: a name without such characters
//! is shown as it is, any other quoted and escaped as Rust's `{:?}` does
//! (`"cat/a\nb.png"`, `"caf\xE9"`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use cnnvar_core::Error;

/// Whether `c` must not be printed raw: a control character (C0, DEL, C1), a line or
/// paragraph separator, or a bidirectional formatting character (which reorders what
/// follows it on screen).
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `path` as an error shows it: as it is when it is UTF-8 without [`unsafe_char`]s, else
/// quoted and escaped (`{:?}`).
pub(crate) fn display(path: &Path) -> Cow<'_, str> {
    match path.to_str() {
        Some(s) if !s.chars().any(unsafe_char) => Cow::Borrowed(s),
        _ => Cow::Owned(format!("{path:?}")),
    }
}

/// A name (a class folder's) as an error shows it between backticks: as it is, or
/// escaped like [`display`] but without the quotes.
pub(crate) fn name(name: &str) -> Cow<'_, str> {
    if name.chars().any(unsafe_char) {
        let quoted = format!("{name:?}");
        Cow::Owned(quoted[1..quoted.len() - 1].to_owned())
    } else {
        name.into()
    }
}

/// `path` as the path of an error: itself when it shows as it is ([`display`]), else
/// its escaped form, so that the error's message, which shows it, stays one line.
pub(crate) fn path(path: &Path) -> PathBuf {
    match display(path) {
        Cow::Borrowed(_) => path.to_path_buf(),
        Cow::Owned(escaped) => PathBuf::from(escaped),
    }
}

/// [`Error::data`] for `path`, shown escaped where needed.
pub(crate) fn data(path: impl AsRef<Path>, message: impl Into<String>) -> Error {
    Error::data(self::path(path.as_ref()), message)
}

/// [`Error::io`] for `path`, shown escaped where needed.
pub(crate) fn io(path: impl AsRef<Path>, e: std::io::Error) -> Error {
    Error::io(self::path(path.as_ref()), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_shown_as_they_are_and_others_escaped() {
        for plain in
            ["data/cat/0001.png", "données/chat é.png", "a \"quoted\" name", "日本/画像.jpg"]
        {
            assert_eq!(display(Path::new(plain)), plain);
            assert_eq!(path(Path::new(plain)), Path::new(plain));
            assert_eq!(name(plain), plain);
        }
        for (raw, shown) in [
            ("cat/a\nb.png", r#""cat/a\nb.png""#),
            ("a\rb", r#""a\rb""#),
            ("x\u{1b}[31my", r#""x\u{1b}[31my""#),
            ("evil\u{202e}gnp.exe", r#""evil\u{202e}gnp.exe""#),
            ("tab\there", r#""tab\there""#),
        ] {
            assert_eq!(display(Path::new(raw)), shown);
            assert_eq!(name(raw), shown[1..shown.len() - 1]);
            let e = data(raw, "is broken").to_string();
            assert_eq!(e, format!("{shown}: is broken"));
            assert!(!e.contains(['\n', '\r', '\u{1b}', '\u{202e}']), "{e}");
        }
        let e = io("a\nb", std::io::Error::other("gone")).to_string();
        assert_eq!(e, r#""a\nb": gone"#);
    }

    #[cfg(unix)]
    #[test]
    fn bytes_that_are_not_utf8_are_shown_escaped() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"caf\xe9.png"));
        assert_eq!(display(p), r#""caf\xE9.png""#);
    }
}
