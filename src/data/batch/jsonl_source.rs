//! JSON Lines input: one whole account per line, read through a bounded line
//! buffer, so a line past the record limit becomes a reject and the next line
//! is read. It must not decode an account: rows leave here as text.

use std::io::{BufRead, BufReader, Read};

use std::sync::{Arc, OnceLock};

use super::mapping::{CsvCarrier, RequiredField};
use super::{bytes_text, BatchError, Raw, RowSource, Unit, MAX_RECORD_BYTES};

/// JSON Lines: one whole account per line; blank lines are skipped.
pub struct JsonlSource {
    reader: BufReader<Box<dyn Read + Send>>,
    line: u64,
    max_record: usize,
    /// The fields the first part's records are checked for (a CSV extract
    /// must carry their columns); emptied once checked.
    expected: Vec<RequiredField>,
    /// Where the check says which of them no record carried.
    not_seen: Arc<OnceLock<FieldsNotSeen>>,
}

/// The fields a CSV extract must have a column or a companion file for that
/// no record of a JSON Lines extract's first part carried (not even as null
/// or `[]`).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct FieldsNotSeen {
    /// The records looked at: the first part read.
    pub records: usize,
    pub fields: Vec<FieldNotSeen>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct FieldNotSeen {
    /// `time_zone`, `pay_plan.scheduled_due`; a list: `contacts`, `case.events`.
    pub field: String,
    /// The CSV extract's column (`TIME_ZONE`), for a field of the extract's own columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The list's companion file, as the mapping names it (`{stem}.contacts.csv`), for a list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl JsonlSource {
    pub fn new(input: Box<dyn Read + Send>) -> Self {
        JsonlSource {
            reader: BufReader::with_capacity(1 << 20, input),
            line: 0,
            max_record: MAX_RECORD_BYTES,
            expected: Vec::new(),
            not_seen: Arc::default(),
        }
    }

    /// Checks the records of the first part read for `expected` fields, and
    /// sets `not_seen` to those none of them carries (not even as null):
    /// an extract without them, where a CSV one would stop for want of their
    /// columns, is warned of. (Not a stop: an exporter may leave out a null
    /// field, and a field no record of a small book has, `breathing_space_start`
    /// say, tells nothing.)
    pub fn expecting(
        mut self,
        expected: Vec<RequiredField>,
        not_seen: Arc<OnceLock<FieldsNotSeen>>,
    ) -> Self {
        self.expected = expected;
        self.not_seen = not_seen;
        self
    }

    /// The first part against the expected fields.
    fn check_fields(&mut self, part: &[Unit]) {
        let expected = std::mem::take(&mut self.expected);
        // Per field: `Some(true)` once a record carries it, `Some(false)` while records that
        // have its record lack it, `None` while no record has its record.
        let mut carried: Vec<Option<bool>> = vec![None; expected.len()];
        let mut records = 0;
        for unit in part {
            let Raw::Json(text) = &unit.raw else { continue };
            let Ok(serde_json::Value::Object(record)) = serde_json::from_str(text) else {
                continue;
            };
            records += 1;
            for (field, carried) in expected.iter().zip(&mut carried) {
                if *carried != Some(true) {
                    *carried = carries(&record, &field.keys).or(*carried);
                }
            }
        }
        if records == 0 {
            return;
        }
        let fields: Vec<FieldNotSeen> = (expected.iter().zip(&carried))
            .filter(|(_, &carried)| carried == Some(false))
            .map(|(f, _)| {
                let (column, file) = match &f.carried_by {
                    CsvCarrier::Column(column) => (Some(column.clone()), None),
                    CsvCarrier::CompanionFile(file) => (None, Some(file.clone())),
                };
                FieldNotSeen {
                    field: f.keys.join("."),
                    column,
                    file,
                }
            })
            .collect();
        if !fields.is_empty() {
            let _ = self.not_seen.set(FieldsNotSeen { records, fields });
        }
    }
}

/// Whether `record` has the key at `keys` (null too); `None` when it lacks
/// the record the key is in (an optional record left out: nothing to tell).
/// Through a list, the key is carried when an item has it, and missing when
/// items lack it and none has it (`promises`, `payments`).
fn carries(record: &serde_json::Map<String, serde_json::Value>, keys: &[String]) -> Option<bool> {
    match keys {
        [] => None,
        [last] => Some(record.contains_key(last)),
        [first, rest @ ..] => match record.get(first) {
            Some(serde_json::Value::Object(inner)) => carries(inner, rest),
            Some(serde_json::Value::Array(items)) => {
                (items.iter().filter_map(|item| item.as_object()))
                    .filter_map(|item| carries(item, rest))
                    .reduce(|a, b| a || b)
            }
            _ => None,
        },
    }
}

/// Why the file's last line is rejected when it has no line end and is not
/// whole JSON.
pub(super) const CUT_LINE: &str = "the line has no line end and is not whole JSON: the file ends inside it, the sign of a transfer cut short, so the record is not evaluated (every line of an extract, the last one too, ends with a line end: docs/batch.md)";

/// The account id a cut line (`text`, a JSON object's start) gives its
/// `key` before the cut: a string value, whole (its closing quote read), of
/// the object's own member, not a nested one's. A number is not read (`12` may
/// be the start of `120`), nor a string the cut falls inside.
pub(super) fn id_before_cut(text: &str, key: &str) -> Option<String> {
    let b = text.as_bytes();
    let skip_ws = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    // The end (past the closing quote) of the string starting at `i`.
    let string_end = |mut i: usize| {
        i += 1;
        loop {
            match b.get(i)? {
                b'\\' => i += 2,
                b'"' => return Some(i + 1),
                _ => i += 1,
            }
        }
    };
    let text_at = |from: usize, to: usize| serde_json::from_str::<String>(&text[from..to]).ok();
    let mut i = skip_ws(text.strip_prefix('\u{feff}').map_or(0, |_| 3));
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(i);
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(i)?;
        let this = text_at(i, key_end)?;
        i = skip_ws(key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(i + 1);
        if this == key {
            return match b.get(i)? {
                b'"' => text_at(i, string_end(i)?),
                _ => None,
            };
        }
        // Past the value, to the `,` that ends it (an `}` ends the object).
        let mut depth = 0usize;
        loop {
            match b.get(i)? {
                b'"' => i = string_end(i)?,
                b'{' | b'[' => {
                    depth += 1;
                    i += 1;
                }
                b'}' | b']' if depth == 0 => return None,
                b'}' | b']' => {
                    depth -= 1;
                    i += 1;
                }
                b',' if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => i += 1,
            }
        }
    }
}

/// What [`read_line_limited`] found.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    End,
    /// A line (with its `\n` if it has one) is in the buffer.
    Read,
    /// The line was longer than the limit; it was read past, not kept.
    TooLong,
}

/// Reads one line into `buf` (cleared first), keeping at most `limit` bytes
/// in memory: a longer line is skipped up to and including its `\n`.
fn read_line_limited(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => Line::End,
                (true, true) => Line::TooLong,
                (true, false) => Line::Read,
            });
        }
        any = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let take = newline.map_or(available.len(), |i| i + 1);
        if !too_long && buf.len() + take > limit {
            too_long = true;
            buf.clear();
        }
        if !too_long {
            buf.extend_from_slice(&available[..take]);
        }
        reader.consume(take);
        if newline.is_some() {
            return Ok(if too_long { Line::TooLong } else { Line::Read });
        }
    }
}

impl RowSource for JsonlSource {
    fn next_chunk(&mut self, n: usize, out: &mut Vec<Unit>) -> Result<bool, BatchError> {
        let more = self.read_chunk(n, out)?;
        if !self.expected.is_empty() {
            self.check_fields(out);
        }
        Ok(more)
    }
}

impl JsonlSource {
    fn read_chunk(&mut self, n: usize, out: &mut Vec<Unit>) -> Result<bool, BatchError> {
        let mut buf = Vec::new();
        while out.len() < n {
            let read = read_line_limited(&mut self.reader, &mut buf, self.max_record)
                .map_err(|e| BatchError::Input(format!("reading the input: {e}")))?;
            if read == Line::End {
                return Ok(false);
            }
            self.line += 1;
            if read == Line::TooLong {
                out.push(Unit {
                    line: self.line,
                    raw: Raw::Bad {
                        id: None,
                        field: None,
                        reason: format!(
                            "line is longer than the record limit ({}); skipped",
                            bytes_text(self.max_record)
                        ),
                    },
                });
                continue;
            }
            if buf.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            // JSON closes itself: a last line without a line end is whole
            // when it parses, and otherwise cut short.
            if buf.last() != Some(&b'\n')
                && serde_json::from_slice::<serde::de::IgnoredAny>(&buf).is_err()
            {
                out.push(Unit {
                    line: self.line,
                    raw: Raw::Cut(String::from_utf8_lossy(&buf).into_owned()),
                });
                continue;
            }
            let raw = match String::from_utf8(std::mem::take(&mut buf)) {
                Ok(s) => Raw::Json(s),
                Err(_) => Raw::Bad {
                    id: None,
                    field: None,
                    reason: "line is not valid UTF-8".into(),
                },
            };
            out.push(Unit {
                line: self.line,
                raw,
            });
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], limit: usize) -> Vec<(Line, String)> {
        let mut reader = BufReader::with_capacity(8, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            let line = read_line_limited(&mut reader, &mut buf, limit).unwrap();
            if line == Line::End {
                return out;
            }
            out.push((line, String::from_utf8(buf.clone()).unwrap()));
        }
    }

    /// A cut line names the account whose id was read whole before the cut:
    /// the object's own `id` member, a string, with its escapes.
    #[test]
    fn a_cut_line_gives_the_id_read_before_the_cut() {
        for (text, id) in [
            (r#"{"id": "A1", "arrears": "12"#, Some("A1")),
            (
                r#" {"name": {"id": "X"}, "tags": ["}", ","], "id":"A\"2\u0041", "x"#,
                Some("A\"2A"),
            ),
            (r#"{"arrears": 5, "id": "A3""#, Some("A3")),
            (r#"{"id": "A4"#, None),
            (r#"{"id": 120"#, None),
            (r#"{"id""#, None),
            (r#"{"arrears": "1", "name": "O'Brien, \"Jo\""#, None),
            (r#"{"arrears": [1, {"id": "B"}]"#, None),
            (r#"{"a": {}} , "id": "C"#, None),
            (r#"["id", "A5"]"#, None),
            ("\u{feff}{\"id\": \"A6\", \"x", Some("A6")),
        ] {
            assert_eq!(id_before_cut(text, "id").as_deref(), id, "{text}");
        }
    }

    #[test]
    fn a_line_past_the_limit_is_skipped_to_its_newline() {
        let long = "x".repeat(50);
        let input = format!("ok\n{long}\nexactly10\n{long}");
        assert_eq!(
            lines(input.as_bytes(), 10),
            [
                (Line::Read, "ok\n".into()),
                (Line::TooLong, String::new()),
                (Line::Read, "exactly10\n".into()),
                // The last line, without its newline.
                (Line::TooLong, String::new()),
            ]
        );
    }

    /// The rejected line keeps its number and the next line is read.
    #[test]
    fn a_jsonl_line_past_the_limit_is_a_reject() {
        let input = format!(
            "{{\"id\": \"a\"}}\n{}\n{{\"id\": \"b\"}}\n",
            "7".repeat(500)
        );
        let mut source = JsonlSource::new(Box::new(std::io::Cursor::new(input.into_bytes())));
        source.max_record = 100;
        let mut units = Vec::new();
        assert!(!source.next_chunk(10, &mut units).unwrap());
        let shown: Vec<String> = units
            .iter()
            .map(|u| match &u.raw {
                Raw::Json(s) => format!("{} {}", u.line, s.trim()),
                Raw::Bad { reason, .. } => format!("{} bad: {reason}", u.line),
                Raw::Cut(text) => format!("{} cut: {text}", u.line),
                Raw::Csv { .. } | Raw::Value(_) => unreachable!("json lines"),
            })
            .collect();
        assert_eq!(
            shown,
            [
                r#"1 {"id": "a"}"#,
                "2 bad: line is longer than the record limit (100 bytes); skipped",
                r#"3 {"id": "b"}"#,
            ]
        );
    }
}
