//! One `Spanned<T>` for both YAML and TOML, so a rule file loads into the same
//! Doc types whatever its format. The loader says which format is being read
//! (a thread-local set for the duration of one deserialization) and the
//! `Deserialize` impl delegates to serde-saphyr's or toml's own span support.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::source::{SourceFile, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Toml,
}

thread_local! {
    static READING: RefCell<Option<(Format, Arc<SourceFile>)>> = const { RefCell::new(None) };
}

/// Runs `f` with spans resolved against `file` in `format`.
pub fn reading<R>(format: Format, file: &Arc<SourceFile>, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<(Format, Arc<SourceFile>)>);
    impl Drop for Reset {
        fn drop(&mut self) {
            READING.with(|r| *r.borrow_mut() = self.0.take());
        }
    }
    let previous = READING.with(|r| r.borrow_mut().replace((format, file.clone())));
    let _reset = Reset(previous);
    f()
}

/// A value with the byte span of the text it was read from.
#[derive(Clone, Debug, Default)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    /// Spans are where a value was written, not what it is.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let reading = READING.with(|r| r.borrow().clone());
        match reading {
            Some((Format::Yaml, file)) => {
                let s = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
                let loc = s.referenced;
                let start = loc
                    .span()
                    .byte_offset()
                    .map(|o| o as usize)
                    .unwrap_or_else(|| file.offset_of(loc.line() as usize, loc.column() as usize));
                let len = loc.span().byte_len().unwrap_or(0) as usize;
                Ok(Spanned::new(s.value, Span::new(start, start + len)))
            }
            Some((Format::Toml, _)) => {
                let s = toml::Spanned::<T>::deserialize(deserializer)?;
                let range = s.span();
                Ok(Spanned::new(
                    s.into_inner(),
                    Span::new(range.start, range.end),
                ))
            }
            None => Ok(Spanned::new(T::deserialize(deserializer)?, Span::default())),
        }
    }
}

/// The text of a cell or an expression, whatever scalar the file wrote:
/// `">= 5"`, `5`, `true` and an empty value all become text for the parser.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CellText(pub String);

impl<'de> Deserialize<'de> for CellText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CellVisitor;
        impl<'de> Visitor<'de> for CellVisitor {
            type Value = CellText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a cell (text, a number or a bool)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CellText, E> {
                Ok(CellText(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<CellText, E> {
                Ok(CellText(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<CellText, E> {
                Ok(CellText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CellText, E> {
                Ok(CellText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<CellText, E> {
                Ok(CellText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<CellText, E> {
                Ok(CellText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<CellText, E> {
                Ok(CellText(String::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<CellText, E> {
                Ok(CellText(String::new()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<CellText, A::Error> {
                Err(de::Error::custom(
                    "a cell must be text, not a list: quote ranges and lists, e.g. \"[1..29]\" or '\"CA\", \"TX\"'",
                ))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<CellText, A::Error> {
                Err(de::Error::custom(
                    "a cell must be text, not a mapping: quote cells that contain `: ` or start with `{`",
                ))
            }
        }
        deserializer.deserialize_any(CellVisitor)
    }
}

/// Where a cell's text starts in its file: after the opening quote when the
/// file quoted it. `None` when escapes make file and text differ, so no exact
/// position inside the cell can be given.
pub fn cell_text_offset(file: &SourceFile, span: Span, text: &str) -> Option<usize> {
    let raw = file.text.get(span.start..)?;
    let start = match raw.chars().next() {
        Some('"') | Some('\'') => span.start + 1,
        _ => span.start,
    };
    file.text
        .get(start..start + text.len())
        .filter(|raw| *raw == text)
        .map(|_| start)
}

/// The span of the key written just before a value (`key: value`,
/// `key = value`, the key possibly quoted), found in the file's text: where a
/// problem with the key itself (a misspelt column) is shown. `None` when the
/// text before the value is not that key and a separator.
pub fn key_before(file: &SourceFile, value: Span, key: &str) -> Option<Span> {
    let before = file.text.get(..value.start)?.trim_end();
    let before = before.strip_suffix([':', '='])?.trim_end();
    ["", "\"", "'"].into_iter().find_map(|quote| {
        let inner = before.strip_suffix(quote)?;
        let key_start = inner.strip_suffix(key)?.len();
        let outside = inner[..key_start].strip_suffix(quote)?;
        let whole_word = !outside.ends_with(|c: char| c.is_alphanumeric() || c == '_');
        (whole_word && !key.is_empty()).then(|| Span::new(key_start, key_start + key.len()))
    })
}
