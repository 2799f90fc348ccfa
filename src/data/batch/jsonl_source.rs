//! JSON Lines input: one whole account per line, read through a bounded line
//! buffer, so a line past the record limit becomes a reject and the next line
//! is read. It must not decode an account: rows leave here as text.

use std::io::{BufRead, BufReader, Read};

use super::{bytes_text, BatchError, Raw, RowSource, Unit, MAX_RECORD_BYTES};

/// JSON Lines: one whole account per line; blank lines are skipped.
pub struct JsonlSource {
    reader: BufReader<Box<dyn Read + Send>>,
    line: u64,
    max_record: usize,
}

impl JsonlSource {
    pub fn new(input: Box<dyn Read + Send>) -> Self {
        JsonlSource {
            reader: BufReader::with_capacity(1 << 20, input),
            line: 0,
            max_record: MAX_RECORD_BYTES,
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
