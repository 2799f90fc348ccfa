//! One `Spanned<T>` for both YAML and TOML, so a rule file loads into the same
//! Doc types whatever its format. The loader says which format is being read
//! (a thread-local set for the duration of one deserialization) and the
//! `Deserialize` impl delegates to serde-saphyr's or toml's own span support.
//! It must not interpret what it reads.

use std::any::Any;
use std::cell::{Cell, RefCell};
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
    /// A cell the reader typed as a float, waiting for its enclosing
    /// `Spanned` to learn where it is written (see `Spanned::deserialize`).
    static FLOAT_CELL: Cell<Option<f64>> = const { Cell::new(None) };
    /// A cell the reader found null: written `null` or `~` (the test "equals
    /// null") or nothing at all ("any"), which only its text tells apart.
    static NULL_CELL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with spans resolved against `file` in `format`.
pub fn reading<R>(format: Format, file: &Arc<SourceFile>, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<(Format, Arc<SourceFile>)>);
    impl Drop for Reset {
        fn drop(&mut self) {
            READING.with(|r| *r.borrow_mut() = self.0.take());
            FLOAT_CELL.set(None);
            NULL_CELL.set(false);
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

impl<'de, T: Deserialize<'de> + 'static> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (mut value, span, written) = located(deserializer)?;
        // A cell written as an unquoted decimal gets its text here, where its
        // position is known: a span wrapper of its own inside every cell would
        // slow every rule file down by a third.
        if let Some(float) = FLOAT_CELL.take() {
            let cell = (&mut value as &mut dyn Any)
                .downcast_mut::<CellText>()
                .ok_or_else(|| de::Error::custom("internal error: a number outside its cell"))?;
            let text = float_source::<D::Error>(float, written)?;
            cell.0 = crate::decimal::read_decimal(&text)
                .map(|d| d.to_string())
                .map_err(|e| de::Error::custom(format!("`{text}` {}", e.reason())))?;
        }
        if NULL_CELL.take() {
            if let (Some(cell), Some(at)) = (
                (&mut value as &mut dyn Any).downcast_mut::<CellText>(),
                written,
            ) {
                if written_null(at) {
                    cell.0 = "null".into();
                }
            }
        }
        Ok(Spanned::new(value, span))
    }
}

/// Whether the scalar written at byte `at` of the file being read is YAML's
/// `null` or `~` (not an empty value).
fn written_null(at: usize) -> bool {
    READING.with(|r| {
        let reading = r.borrow();
        let Some((_, file)) = reading.as_ref() else {
            return false;
        };
        let rest = file.text.get(at..).unwrap_or("");
        let word = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '~' || c == '_'))
            .map_or(rest, |end| &rest[..end]);
        matches!(word, "null" | "Null" | "NULL" | "~")
    })
}

/// A value with the span where it is used and the byte offset where it is
/// written (they differ for a YAML alias: the offset is its anchor's value's).
fn located<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<(T, Span, Option<usize>), D::Error> {
    let reading = READING.with(|r| r.borrow().clone());
    match reading {
        Some((Format::Yaml, file)) => {
            let s = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
            let span = |loc: serde_saphyr::Location| {
                let start = loc
                    .span()
                    .byte_offset()
                    .map(|o| o as usize)
                    .unwrap_or_else(|| file.offset_of(loc.line() as usize, loc.column() as usize));
                let len = loc.span().byte_len().unwrap_or(0) as usize;
                Span::new(start, start + len)
            };
            let written =
                (s.defined != serde_saphyr::Location::UNKNOWN).then(|| span(s.defined).start);
            Ok((s.value, span(s.referenced), written))
        }
        Some((Format::Toml, _)) => {
            let s = toml::Spanned::<T>::deserialize(deserializer)?;
            let range = s.span();
            let span = Span::new(range.start, range.end);
            Ok((s.into_inner(), span, Some(span.start)))
        }
        None => Ok((T::deserialize(deserializer)?, Span::default(), None)),
    }
}

/// A YAML or TOML scalar that the reader took for a float: the text it was
/// written as, read from the file at `written`; never the `f64`, which holds
/// only 15 to 17 significant digits. `value` is the reader's float, to check
/// the text found is that number's.
fn float_source<E: de::Error>(value: f64, written: Option<usize>) -> Result<String, E> {
    let text = READING.with(|r| {
        let reading = r.borrow();
        let (_, file) = reading.as_ref()?;
        let rest = file.text.get(written?..)?;
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_')))
            .unwrap_or(rest.len());
        // `1_000.5` is TOML's (and YAML 1.1's) digit grouping, not a separator mistake.
        Some(rest[..end].replace('_', ""))
    });
    text.filter(|t| t.parse::<f64>().is_ok_and(|v| v == value))
        .ok_or_else(|| E::custom("this number cannot be read exactly; quote it, e.g. \"12.50\""))
}

/// What a list where a [`CellText`] belongs is told in a rule file; the
/// documents whose only such values are dates say it their way (`model::load::read_document`).
pub const CELL_NOT_A_LIST: &str =
    "a cell must be text, not a list: quote ranges and lists, e.g. \"[1..29]\" or '\"CA\", \"TX\"'";

/// The text of a cell or an expression, whatever scalar the file wrote:
/// `">= 5"`, `5`, `true` and an empty value all become text for the parser;
/// an unquoted decimal is its text as written, not an `f64`'s digits.
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
                // Its text, not the f64's digits, once its `Spanned` knows where it is.
                FLOAT_CELL.set(Some(v));
                Ok(CellText(String::new()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<CellText, E> {
                Ok(CellText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<CellText, E> {
                // `null` (equals null) or nothing (any), once its `Spanned` knows where it is.
                NULL_CELL.set(true);
                Ok(CellText(String::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<CellText, E> {
                NULL_CELL.set(true);
                Ok(CellText(String::new()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<CellText, A::Error> {
                Err(de::Error::custom(CELL_NOT_A_LIST))
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

/// A name from a closed set (`hit`, `aggregate`), read as its text whatever
/// scalar the file wrote: TOML's `hit = 1` is an integer where YAML's `hit: 1`
/// is text, and both must meet the checker's one message (`unknown hit policy
/// `1``, with the names it takes), not the reader's type error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameText(pub String);

impl NameText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NameText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NameText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = NameText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NameText, E> {
                Ok(NameText(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<NameText, E> {
                Ok(NameText(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NameText, E> {
                Ok(NameText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NameText, E> {
                Ok(NameText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NameText, E> {
                Ok(NameText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<NameText, E> {
                Ok(NameText(v.to_string()))
            }
        }
        // Asked for a string: YAML then says a list or mapping is no single value in its
        // words; TOML hands its typed scalars to the visitor, which takes their text.
        deserializer.deserialize_str(NameVisitor)
    }
}

impl schemars::JsonSchema for NameText {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NameText".into()
    }

    /// A string: the editor schemas list the names it takes (`json_schema::closed_sets`).
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
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

/// An account (or any JSON-shaped value) read from YAML or TOML with every
/// number as the text it was written as, like JSON's with arbitrary
/// precision: `arrears: 4.9999999999999999999` stays that, not `5.0`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExactJson(pub serde_json::Value);

impl<'de> Deserialize<'de> for ExactJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        LocatedJson::deserialize(deserializer).map(|value| ExactJson(value.into_json()))
    }
}

/// A JSON-shaped value read like [`ExactJson`], with the span of each value
/// in it, so that a problem found when decoding it (`account.balance`) can be
/// shown where that field is written, not where its record starts.
#[derive(Clone, Debug)]
pub struct LocatedJson {
    pub span: Span,
    node: Node<LocatedJson>,
}

/// One value as the YAML or TOML reader typed it, its items or fields `C`.
#[derive(Clone, Debug)]
enum Node<C> {
    Scalar(serde_json::Value),
    List(Vec<C>),
    Map(Vec<(String, C)>),
}

/// Where each value of a [`LocatedJson`] was, by its path: a tree of
/// positions `P` shaped like the value (without it).
#[derive(Clone, Debug)]
pub struct Positions<P> {
    pub at: P,
    node: Node<Positions<P>>,
}

impl LocatedJson {
    /// A mapping's keys and values, in the order written.
    pub fn fields(&self) -> Option<&[(String, LocatedJson)]> {
        match &self.node {
            Node::Map(fields) => Some(fields),
            _ => None,
        }
    }

    /// A list's items.
    pub fn items(&self) -> Option<&[LocatedJson]> {
        match &self.node {
            Node::List(items) => Some(items),
            _ => None,
        }
    }

    /// The value without its spans.
    pub fn into_json(self) -> serde_json::Value {
        self.into_parts(&mut |_| ()).0
    }

    /// The value, and where each value in it was: `position` turns a span
    /// into what is kept (a line and column, say).
    pub fn into_parts<P>(
        self,
        position: &mut impl FnMut(Span) -> P,
    ) -> (serde_json::Value, Positions<P>) {
        use serde_json::Value as Json;
        let at = position(self.span);
        let (json, node) = match self.node {
            Node::Scalar(json) => (json, Node::Scalar(Json::Null)),
            Node::List(items) => {
                let (values, positions) = items
                    .into_iter()
                    .map(|item| item.into_parts(position))
                    .unzip();
                (Json::Array(values), Node::List(positions))
            }
            Node::Map(fields) => {
                let mut object = serde_json::Map::new();
                let mut positions = Vec::with_capacity(fields.len());
                for (key, value) in fields {
                    let (value, position) = value.into_parts(position);
                    object.insert(key.clone(), value);
                    positions.push((key, position));
                }
                (Json::Object(object), Node::Map(positions))
            }
        };
        (json, Positions { at, node })
    }
}

impl<P: Copy> Positions<P> {
    /// Where the value at `path` was written (`account.service_agreements[1].arrears`,
    /// as decoding names a field, under `root`, here `account`), or its
    /// nearest enclosing value's position when it was not written (a missing field).
    pub fn of(&self, root: &str, path: &str) -> P {
        let Some(mut rest) = path.strip_prefix(root) else {
            return self.at;
        };
        let mut here = self;
        loop {
            let (next, after) = match (rest.as_bytes().first(), &here.node) {
                (Some(b'.'), Node::Map(fields)) => {
                    let name = &rest[1..];
                    let end = name.find(['.', '[']).unwrap_or(name.len());
                    let field = fields.iter().find(|(key, _)| key == &name[..end]);
                    (field.map(|(_, p)| p), &name[end..])
                }
                (Some(b'['), Node::List(items)) => {
                    let Some((index, after)) = rest[1..].split_once(']') else {
                        return here.at;
                    };
                    (
                        index.parse::<usize>().ok().and_then(|i| items.get(i)),
                        after,
                    )
                }
                _ => return here.at,
            };
            match next {
                Some(next) => (here, rest) = (next, after),
                None => return here.at,
            }
        }
    }
}

impl<'de> Deserialize<'de> for LocatedJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde_json::Value as Json;
        let (node, span, written) = located::<ReadNode, D>(deserializer)?;
        let node = match node {
            ReadNode::Node(node) => node,
            // The account decoder reads (or refuses) the number as JSON's.
            ReadNode::Float(value) => {
                let text = float_source::<D::Error>(value, written)?;
                Node::Scalar(match text.parse() {
                    Ok(number) => Json::Number(number),
                    Err(_) => Json::String(text), // `+1.5`, `.5`: not JSON's spelling
                })
            }
        };
        Ok(LocatedJson { span, node })
    }
}

/// One node as the YAML or TOML reader typed it; a float still to be read from its text.
enum ReadNode {
    Node(Node<LocatedJson>),
    Float(f64),
}

impl<'de> Deserialize<'de> for ReadNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde_json::Value as Json;
        fn scalar(json: Json) -> ReadNode {
            ReadNode::Node(Node::Scalar(json))
        }
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = ReadNode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ReadNode, E> {
                Ok(scalar(Json::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ReadNode, E> {
                Ok(scalar(Json::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ReadNode, E> {
                Ok(scalar(Json::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ReadNode, E> {
                Ok(ReadNode::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ReadNode, E> {
                Ok(scalar(Json::String(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<ReadNode, E> {
                Ok(scalar(Json::String(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ReadNode, E> {
                Ok(scalar(Json::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<ReadNode, E> {
                Ok(scalar(Json::Null))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<ReadNode, D::Error> {
                LocatedJson::deserialize(d).map(|v| ReadNode::Node(v.node))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<ReadNode, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(ReadNode::Node(Node::List(items)))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<ReadNode, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, LocatedJson>()? {
                    fields.push(entry);
                }
                Ok(ReadNode::Node(Node::Map(fields)))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
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

/// The span of `key` written as a key (`key:`, `key =`, possibly quoted) of
/// the mapping that starts at `mapping` (a flow `{ ... }` or a block's first
/// key), whose keys' own spans were not kept: searched from there to the
/// first later line indented less than the mapping starts. `None` when it is
/// not found.
pub fn key_within(file: &SourceFile, mapping: Span, key: &str) -> Option<Span> {
    let from = mapping.start;
    let line_start = file.text.get(..from)?.rfind('\n').map_or(0, |i| i + 1);
    let column = from - line_start;
    let rest = file.text.get(from..)?;
    // The mapping's extent: its first line, then lines indented at least as deep (or blank).
    let mut end = rest.find('\n').map_or(rest.len(), |i| i + 1);
    for line in rest[end..].split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent < column && !line.trim().is_empty() {
            break;
        }
        end += line.len();
    }
    let text = &rest[..end];
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    text.match_indices(key).find_map(|(at, _)| {
        let before = text[..at].trim_end_matches(['"', '\'']);
        let after = text[at + key.len()..].trim_start_matches(['"', '\'']);
        let separated = after
            .trim_start_matches([' ', '\t'])
            .starts_with([':', '=']);
        (!key.is_empty() && !before.ends_with(word) && separated)
            .then(|| Span::new(from + at, from + at + key.len()))
    })
}

/// Editor schemas (`arrears schema`): a spanned value is written as the value itself.
impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<T>()
    }
}

/// Any scalar, as the cell parser reads it (a list or a mapping is refused).
impl schemars::JsonSchema for CellText {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CellText".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": ["string", "number", "boolean", "null"],
        })
    }
}

/// The same value as [`ExactJson`], its spans aside.
impl schemars::JsonSchema for LocatedJson {
    fn inline_schema() -> bool {
        ExactJson::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        ExactJson::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        ExactJson::json_schema(generator)
    }
}

/// Any JSON-shaped value: an account, a field's new value.
impl schemars::JsonSchema for ExactJson {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ExactJson".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (serde_json::Value, Positions<(usize, usize)>) {
        let file = SourceFile::new("a.yaml", text);
        let located: LocatedJson =
            reading(Format::Yaml, &file, || serde_saphyr::from_str(&file.text)).unwrap();
        located.into_parts(&mut |span| file.line_col(span.start))
    }

    #[test]
    fn a_key_is_found_in_its_own_mapping_flow_or_block() {
        let text = "- { type: a, \"kye\": 1 }\n- type: b\n  key2: x\n  note: keys\n- kye: z\n";
        let file = SourceFile::new("a.yaml", text);
        let at = |from: &str, key: &str| {
            let start = text.find(from).unwrap();
            key_within(&file, Span::new(start, start + 1), key).map(|s| &text[s.start..s.end])
        };
        assert_eq!(at("{ type: a", "kye"), Some("kye"));
        assert_eq!(at("type: b", "key2"), Some("key2"));
        // Not a key (a word in a value), nor a key of the next item.
        assert_eq!(at("type: b", "key"), None);
        assert_eq!(at("type: b", "kye"), None);
    }

    #[test]
    fn a_path_is_found_where_it_is_written_or_at_its_nearest_parent() {
        let text = "id: a\nitems:\n  - amount: 1.50\n  - amount: \"2,00\"\n    note: x\n";
        let (json, at) = read(text);
        assert_eq!(json["items"][1]["amount"], "2,00");
        assert_eq!(json["items"][0]["amount"].to_string(), "1.50", "as written");
        assert_eq!(at.of("account", "account"), (1, 1));
        assert_eq!(at.of("account", "account.id"), (1, 5));
        assert_eq!(at.of("account", "account.items[1].amount"), (4, 13));
        assert_eq!(at.of("account", "account.items[1].note"), (5, 11));
        // Not written: the nearest value that was.
        let items = at.of("account", "account.items");
        assert_eq!(items, (3, 3));
        assert_eq!(at.of("account", "account.items[1].missing"), (4, 5));
        assert_eq!(at.of("account", "account.items[7].amount"), items);
        assert_eq!(at.of("account", "account.items[x]"), items);
        assert_eq!(at.of("account", "account.id[0]"), (1, 5));
        assert_eq!(
            at.of("account", "other.id"),
            (1, 1),
            "another root is not this value's"
        );
        assert_eq!(at.of("account", "accounts.id"), (1, 1));
    }
}
