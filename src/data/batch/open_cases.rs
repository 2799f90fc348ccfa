//! `batch --open-cases FILE`: the case system's list of accounts with an open
//! case, one account id per line, read whole before the extract (so a bad line
//! stops the run before any row is read), and after the extract the cases of
//! the listed accounts that no row had are closed (Pega's exit criteria: an
//! account that left the extract leaves collections). It must not decide
//! anything the policy decides: a listed account that is in the extract, even
//! on a rejected row, is left to the policy, and when a rejected row's id could
//! not be read nothing is closed (that row may be a listed account).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use super::duplicates::SeenIds;
use super::part::write_actions;
use super::summary::{OpenCasesCounts, Summary};
use super::{open_input, BatchError, OutputFormat};
use crate::diagnostic::printable;
use crate::policy::action::Rules;
use crate::policy::{Action, ActionKind};

/// The most bytes an open-cases file may have (after `.gz` decompression):
/// about 20 million ids, more than any extract this batch is sized for.
const MAX_OPEN_CASES_BYTES: u64 = 256 << 20;
const _: () = assert!(MAX_OPEN_CASES_BYTES <= u32::MAX as u64);
/// The longest line taken for an account id.
const MAX_ID_BYTES: usize = 1024;
/// The rule ref of the actions closing a case whose account is absent.
const OPEN_CASES_RULE: &str = "batch:open-cases";
/// The closing actions are written in pieces of about this many bytes.
const WRITE_BYTES: usize = 64 << 10;
/// The `close_case` reason.
const ABSENT_REASON: &str = "account no longer in the extract";

/// The most of the listed cases, in percent, a run closes as absent unless
/// told otherwise (`--max-closed-share`): more looks like a truncated extract
/// rather than that many accounts leaving at once.
pub const MAX_CLOSED_SHARE: u8 = 50;

/// The listed account ids, each once, in the file's order.
#[derive(Debug)]
pub struct OpenCases {
    text: String,
    /// Where each id ends in `text` (at most `MAX_OPEN_CASES_BYTES`, so 32 bits).
    ends: Vec<u32>,
    /// Lines repeating an id listed earlier.
    listed_twice: u64,
    /// The most of the listed cases, in percent, the run may close.
    max_closed_share: u8,
}

impl Default for OpenCases {
    fn default() -> OpenCases {
        OpenCases {
            text: String::new(),
            ends: Vec::new(),
            listed_twice: 0,
            max_closed_share: MAX_CLOSED_SHARE,
        }
    }
}

impl OpenCases {
    /// Reads the file at `path` (a regular file or a FIFO, `.gz` decompressed).
    /// An error is one line naming the file (and the line).
    /// `id_column` is the extract's account-id column (`ACCT_NO`), which a
    /// first line must not be: that is a header.
    pub fn read(path: &Path, id_column: &str) -> Result<OpenCases, String> {
        let input = open_input(path)?;
        OpenCases::parse_limited(
            &path.display().to_string(),
            input,
            MAX_OPEN_CASES_BYTES,
            id_column,
        )
    }

    /// One account id per line; blank lines and lines whose first non-blank
    /// character is `#` are skipped; an id is trimmed as an extract's cell is.
    pub fn parse(name: &str, input: impl Read) -> Result<OpenCases, String> {
        OpenCases::parse_limited(name, input, MAX_OPEN_CASES_BYTES, "id")
    }

    fn parse_limited(
        name: &str,
        input: impl Read,
        max_bytes: u64,
        id_column: &str,
    ) -> Result<OpenCases, String> {
        let name = printable(name);
        let mut reader = BufReader::new(input.take(max_bytes + 1));
        let mut cases = OpenCases::default();
        let mut seen = std::collections::HashSet::new();
        let mut buf = Vec::new();
        let mut total = 0u64;
        for number in 1u64.. {
            buf.clear();
            let read = (&mut reader)
                .take(MAX_ID_BYTES as u64 + 3)
                .read_until(b'\n', &mut buf)
                .map_err(|e| format!("cannot read `{name}`: {e}"))?;
            if read == 0 {
                break;
            }
            total += read as u64;
            if total > max_bytes {
                return Err(format!(
                    "`{name}` is larger than {}; an open-cases file lists one account id per line",
                    super::bytes_text(max_bytes as usize)
                ));
            }
            let at = || format!("`{name}` line {number}");
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.len() > MAX_ID_BYTES {
                return Err(format!(
                    "{}: longer than {MAX_ID_BYTES} bytes, not an account id (the file lists one account id per line)",
                    at()
                ));
            }
            let Ok(line) = std::str::from_utf8(line) else {
                return Err(format!("{}: not valid UTF-8", at()));
            };
            let line = match number {
                1 => line.strip_prefix('\u{feff}').unwrap_or(line),
                _ => line,
            };
            let id = super::mapping::trim_cell(line);
            if id.is_empty() || id.starts_with('#') {
                continue;
            }
            if let Some(c) = id
                .chars()
                .find(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '"'))
            {
                let what = match c {
                    ',' => "a comma".to_string(),
                    ';' => "a semicolon".to_string(),
                    '"' => "a quote".to_string(),
                    c if c.is_whitespace() && !c.is_control() => "a space".to_string(),
                    c => format!("the control character `{}`", printable(&c.to_string())),
                };
                return Err(format!(
                    "{}: `{}` has {what}, so it is not one account id; the file lists one account id per line, with no header",
                    at(),
                    printable(&crate::diagnostic::echoed(id))
                ));
            }
            // A header line is a column name, not an account id that happens
            // to be absent (it would close a case for account `ACCT_NO`).
            if cases.ends.is_empty() && cases.listed_twice == 0 && is_header(id, id_column) {
                return Err(format!(
                    "{}: `{}` is a column name, not an account id; the file lists one account id per line, with no header: remove that line",
                    at(),
                    printable(id)
                ));
            }
            // A cut id would close the case of an account that does not exist.
            if !buf.ends_with(b"\n") {
                return Err(format!(
                    "{}: `{}`, the file's last line, has no line end: the file ends inside it, the sign of a transfer cut short, so the id may have lost bytes; every line, the last one too, ends with a line end",
                    at(),
                    printable(&crate::diagnostic::echoed(id))
                ));
            }
            if seen.insert(xxhash_rust::xxh3::xxh3_64(id.as_bytes())) {
                cases.text.push_str(id);
                cases.ends.push(cases.text.len() as u32);
            } else {
                cases.listed_twice += 1;
            }
        }
        Ok(cases)
    }

    /// Lets the run close up to `percent` of the listed cases (0 to 100)
    /// instead of [`MAX_CLOSED_SHARE`]: a portfolio sale closes more on purpose.
    pub fn with_max_closed_share(mut self, percent: u8) -> OpenCases {
        self.max_closed_share = percent.min(100);
        self
    }

    /// The listed ids, each once, in the file's order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(a, &b)| &self.text[a as usize..b as usize])
    }

    /// Writes `cancel_pending_events` and `close_case` for each listed account
    /// that no row of the extract had (`row` null), counts them in `summary`.
    /// The lines go out in pieces: a list of millions of absent accounts is
    /// never held as one buffer. Closing more than the allowed share of the
    /// listed cases writes none of them: [`BatchError::TooManyClosures`].
    pub(super) fn close_absent(
        &self,
        seen: &SeenIds,
        format: OutputFormat,
        out: &mut dyn Write,
        summary: &mut Summary,
    ) -> Result<(), BatchError> {
        let mut counts = OpenCasesCounts {
            listed_twice: self.listed_twice,
            rejects_without_id: seen.rejects_without_id(),
            ..OpenCasesCounts::default()
        };
        if counts.rejects_without_id == 0 {
            // Counted before any is written: a stream cannot take back half of them.
            let listed = self.ends.len() as u64;
            let closing = self.ids().filter(|id| !seen.contains(id)).count() as u64;
            if closing * 100 > listed * u64::from(self.max_closed_share) {
                return Err(BatchError::TooManyClosures {
                    closing,
                    listed,
                    rows: summary.rows_read,
                    allowed: self.max_closed_share,
                });
            }
        }
        let rules: Rules = smallvec::smallvec![OPEN_CASES_RULE.into()];
        let actions = [
            Action {
                kind: ActionKind::CancelPendingEvents,
                rules: rules.clone(),
            },
            Action {
                kind: ActionKind::CloseCase {
                    reason: Some(ABSENT_REASON.into()),
                },
                rules,
            },
        ];
        let mut scratch = Vec::new();
        let mut lines = Vec::with_capacity(WRITE_BYTES + 1024);
        for id in self.ids() {
            counts.listed += 1;
            if seen.contains(id) {
                counts.in_extract += 1;
            } else if counts.rejects_without_id > 0 {
                counts.left_open += 1;
            } else {
                counts.closed_absent += 1;
                summary.tally(&actions);
                write_actions(&mut lines, &mut scratch, format, id, None, &actions);
                if lines.len() >= WRITE_BYTES {
                    out.write_all(&lines)?;
                    lines.clear();
                }
            }
        }
        out.write_all(&lines)?;
        summary.open_cases = Some(counts);
        Ok(())
    }
}

/// Column names an account-id column has: the extract's own, and the usual ones.
const HEADER_NAMES: [&str; 7] = [
    "id",
    "account",
    "account_id",
    "account_no",
    "account_number",
    "acct_no",
    "acct_id",
];

/// Whether a first id is a header: the extract's id column or a usual name
/// for one, in any case.
fn is_header(id: &str, id_column: &str) -> bool {
    id.eq_ignore_ascii_case(id_column) || HEADER_NAMES.iter().any(|h| id.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Result<OpenCases, String> {
        OpenCases::parse("open.txt", text)
    }

    #[test]
    fn ids_one_a_line_with_comments_blank_lines_and_repeats() {
        let cases =
            parse(b"\xef\xbb\xbfAC1\r\n\n  # closed yesterday\n AC2 \nAC1\n\t\nAC3\n  ").unwrap();
        assert_eq!(cases.ids().collect::<Vec<_>>(), ["AC1", "AC2", "AC3"]);
        assert_eq!(cases.listed_twice, 1);
        assert_eq!(parse(b"").unwrap().ids().count(), 0);
    }

    #[test]
    fn a_line_that_is_not_one_id_names_the_file_and_line() {
        for (text, message) in [
            (
                &b"AC1\nAC2,open\n"[..],
                "`open.txt` line 2: `AC2,open` has a comma",
            ),
            (
                b"ACCT_NO;STATUS\n",
                "`open.txt` line 1: `ACCT_NO;STATUS` has a semicolon",
            ),
            (
                b"AC1\n\"AC2\"\n",
                "`open.txt` line 2: `\"AC2\"` has a quote",
            ),
            (b"AC1 open\n", "`open.txt` line 1: `AC1 open` has a space"),
            (
                b"AC1\tX\n",
                "`open.txt` line 1: `AC1\\tX` has the control character `\\t`",
            ),
            (
                b"AC1\nAC\x1b2\n",
                "`open.txt` line 2: `AC\\u{1b}2` has the control",
            ),
            (b"\nAC\xff\n", "`open.txt` line 2: not valid UTF-8"),
            (
                b"AC1\nAC2",
                "`open.txt` line 2: `AC2`, the file's last line, has no line end",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(message), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn an_overlong_line_or_an_endless_file_is_refused_without_reading_it_all() {
        let mut long = vec![b'A'; MAX_ID_BYTES + 1];
        long.push(b'\n');
        let err = parse(&long).unwrap_err();
        assert!(
            err.starts_with("`open.txt` line 1: longer than 1024 bytes"),
            "{err}"
        );
        // An endless line (a device behind a FIFO) stops at the id limit.
        let err = OpenCases::parse("zero", std::io::repeat(b'A')).unwrap_err();
        assert!(err.contains("line 1: longer than"), "{err}");
        // Endless short lines stop at the size limit.
        let err =
            OpenCases::parse_limited("lines", std::io::repeat(b'\n'), 1 << 20, "id").unwrap_err();
        assert_eq!(
            err,
            "`lines` is larger than 1 MiB; an open-cases file lists one account id per line"
        );
    }
}
