//! CSV input: the extract and its companion files, read in step (each
//! account's companion rows are taken as its row is read), every record
//! bounded by the record limit. It must not decode cells (the mapping does,
//! `mapping.rs`): rows leave here as text cells. A row repeating the one
//! before it is a reject here: its companion rows went with the first.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::path::PathBuf;

use csv::{ByteRecord, StringRecord};

use super::mapping::trim_cell;
use super::{bytes_text, open_input, BatchError, Mapping, Raw, RowSource, Unit, MAX_RECORD_BYTES};

/// A CSV input that fails once the record being read grows past its limit:
/// the csv reader would otherwise buffer a record of any length. The reader
/// tells it where each record starts ([`RecordStart`]); the bytes handed over
/// since then are the record plus at most one buffer of read-ahead.
///
/// It also hands the csv reader `\n` for every `\r\n` and ends a last line
/// that has no newline with one, so that every record ends with `\n` and
/// [`read_limited_record`] can number lines physically: the csv reader ends a
/// CRLF record at its `\r` and counts the `\n` with the next record, one line
/// too low. (A lone `\r`, old Mac line ends, is left as it is.) Where that
/// added newline ends is kept ([`RecordStart::is_unterminated`]): the record
/// it ends is a cut transfer's last line, rejected by the reader.
struct RecordLimited {
    inner: std::io::BufReader<Box<dyn Read + Send>>,
    fed: u64,
    start: RecordStart,
    limit: u64,
    /// A `\r` that ended the bytes at hand: a line end if `\n` follows.
    held_cr: bool,
    /// The last byte handed over.
    last: u8,
    /// Whether the newline ending the input was added.
    closed: bool,
}

/// Where the record being read starts, shared by a csv reader's owner and its
/// input, how many bytes the input handed over in all once it ended, and
/// where the newline added to a last line without one ends.
#[derive(Clone)]
struct RecordStart(std::sync::Arc<[std::sync::atomic::AtomicU64; 3]>);

impl Default for RecordStart {
    fn default() -> Self {
        use std::sync::atomic::AtomicU64;
        RecordStart(std::sync::Arc::new([
            AtomicU64::new(0),
            AtomicU64::new(u64::MAX),
            AtomicU64::new(u64::MAX),
        ]))
    }
}

impl RecordStart {
    fn set(&self, byte: u64) {
        self.0[0].store(byte, std::sync::atomic::Ordering::Relaxed);
    }
    fn get(&self) -> u64 {
        self.0[0].load(std::sync::atomic::Ordering::Relaxed)
    }
    fn set_end(&self, bytes: u64) {
        self.0[1].store(bytes, std::sync::atomic::Ordering::Relaxed);
    }
    /// The input's length, once it has ended.
    fn end(&self) -> Option<u64> {
        Some(self.0[1].load(std::sync::atomic::Ordering::Relaxed)).filter(|&n| n != u64::MAX)
    }
    fn set_unterminated(&self, end: u64) {
        self.0[2].store(end, std::sync::atomic::Ordering::Relaxed);
    }
    /// Whether the record that ends at byte `end` is the input's last line
    /// and had no line end (its newline was added): a sign of a cut transfer.
    fn is_unterminated(&self, end: u64) -> bool {
        self.0[2].load(std::sync::atomic::Ordering::Relaxed) == end
    }
}

/// The error [`RecordLimited`] reads with.
#[derive(Debug)]
struct RecordTooLong;

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("record too long")
    }
}

impl std::error::Error for RecordTooLong {}

impl Read for RecordLimited {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.fed - self.start.get() > self.limit + CSV_BUFFER as u64 {
            return Err(std::io::Error::other(RecordTooLong));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let data = self.inner.fill_buf()?;
            if self.held_cr {
                self.held_cr = false;
                if data.first() == Some(&b'\n') {
                    self.inner.consume(1);
                    return Ok(self.handed(buf, b"\n"));
                }
                return Ok(self.handed(buf, b"\r"));
            }
            if data.is_empty() {
                if self.fed > 0 && self.last != b'\n' && !self.closed {
                    self.closed = true;
                    let handed = self.handed(buf, b"\n");
                    self.start.set_unterminated(self.fed);
                    return Ok(handed);
                }
                self.start.set_end(self.fed);
                return Ok(0);
            }
            let (mut r, mut w) = (0, 0);
            while r < data.len() && w < buf.len() {
                // Copied in runs up to the next `\r`.
                let room = (data.len() - r).min(buf.len() - w);
                let run = memchr::memchr(b'\r', &data[r..r + room]).unwrap_or(room);
                buf[w..w + run].copy_from_slice(&data[r..r + run]);
                r += run;
                w += run;
                if run == room {
                    break;
                }
                // At a `\r`: dropped before `\n`, held when the data ends here.
                r += 1;
                match data.get(r) {
                    Some(b'\n') => {}
                    Some(_) => {
                        buf[w] = b'\r';
                        w += 1;
                    }
                    None => self.held_cr = true,
                }
            }
            self.inner.consume(r);
            if w > 0 {
                self.last = buf[w - 1];
                self.fed += w as u64;
                return Ok(w);
            }
        }
    }
}

impl RecordLimited {
    /// Hands over `bytes` (one byte) as the read.
    fn handed(&mut self, buf: &mut [u8], bytes: &[u8]) -> usize {
        buf[..bytes.len()].copy_from_slice(bytes);
        self.last = bytes[bytes.len() - 1];
        self.fed += bytes.len() as u64;
        bytes.len()
    }
}

fn is_too_long(e: &csv::Error) -> bool {
    matches!(e.kind(), csv::ErrorKind::Io(io)
        if io.get_ref().is_some_and(|inner| inner.is::<RecordTooLong>()))
}

/// A CSV reader of `input` whose records may be at most `limit` bytes, with
/// the handle to tell it where each record starts.
fn limited_csv_reader(
    input: Box<dyn Read + Send>,
    limit: usize,
) -> (csv::Reader<Box<dyn Read + Send>>, RecordStart) {
    let start = RecordStart::default();
    let limited = RecordLimited {
        inner: std::io::BufReader::with_capacity(LINE_END_BUFFER, input),
        fed: 0,
        start: start.clone(),
        limit: limit as u64,
        held_cr: false,
        last: 0,
        closed: false,
    };
    (csv_reader(Box::new(limited)), start)
}

/// Why a CSV input cannot be read on: a record cannot be skipped (the
/// newline that ends it may be inside quotes), so the caller stops there.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// A record longer than the limit, at this line.
    TooLong(u64),
    /// A quote opened at this line is never closed: the rest of the input is one cell.
    OpenQuote(u64),
}

impl Stop {
    fn message(&self, what: &str, limit: usize) -> String {
        match *self {
            Stop::TooLong(line) => too_long_message(what, line, limit),
            Stop::OpenQuote(line) => format!(
                "{what} line {line}: a quoted cell opened on this line is never closed (an unterminated quote), so the rest of the file was read as that one cell; the batch stopped"
            ),
        }
    }
}

/// Reads the next record of a limited CSV reader: a record longer than
/// `limit` bytes, or one whose quote runs to the end of the input, stops.
/// The record's position is its physical first line.
fn read_limited_record(
    reader: &mut csv::Reader<Box<dyn Read + Send>>,
    start: &RecordStart,
    limit: usize,
    rec: &mut ByteRecord,
) -> Result<Result<bool, csv::Error>, Stop> {
    let at = reader.position().clone();
    start.set(at.byte());
    match reader.read_byte_record(rec) {
        Err(e) if is_too_long(&e) => Err(Stop::TooLong(at.line())),
        Ok(true) if reader.position().byte() - at.byte() > limit as u64 => {
            Err(Stop::TooLong(at.line()))
        }
        Ok(true) => {
            // The csv reader gives a record the position where the last one
            // ended, before the blank lines it skipped. The lines read, less
            // the newlines inside quoted cells and the `\n` ending the record
            // (every record has one, `RecordLimited`), are those blank lines.
            let read = reader.position().line() - at.line();
            // One line read (nearly every record): no blank line, no newline inside.
            let blank = match read {
                0 | 1 => 0,
                _ => read.saturating_sub(count_newlines(rec.as_slice()) + 1),
            };
            let first = at.line() + blank;
            if blank > 0 {
                let mut position = at;
                position.set_line(first);
                rec.set_position(Some(position));
            }
            // Every input ends with `\n`: a last cell that holds it, in a
            // record that ran to the end, had its quote open there.
            let last = rec.len().checked_sub(1).and_then(|i| rec.get(i));
            if start.end() == Some(reader.position().byte())
                && last.is_some_and(|cell| cell.ends_with(b"\n"))
            {
                let before = rec.len() - 1;
                let lines_before: u64 = (0..before)
                    .filter_map(|i| rec.get(i))
                    .map(count_newlines)
                    .sum();
                return Err(Stop::OpenQuote(first + lines_before));
            }
            Ok(Ok(true))
        }
        other => Ok(other),
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// The message for a CSV record past the limit at `line` of `what`.
fn too_long_message(what: &str, line: u64, limit: usize) -> String {
    format!(
        "{what} line {line}: the record is longer than the record limit ({}); a CSV record cannot be skipped (its end may be inside quotes), so the batch stopped",
        bytes_text(limit)
    )
}

/// A companion file: rows grouped by account id, in the input's account order.
struct Companion {
    /// The mapping's list it holds.
    list: usize,
    file: String,
    reader: csv::Reader<Box<dyn Read + Send>>,
    start: RecordStart,
    key_col: usize,
    pending: Option<(u64, StringRecord)>,
    done: bool,
    /// The record the next row is read into, sized like the last row.
    next: ByteRecord,
    /// Accounts' rows read ahead of `pending`, one group per account, to see
    /// which accounts follow (only after rows without an account id).
    ahead: std::collections::VecDeque<Vec<(u64, StringRecord)>>,
    /// Rows with a cell that is not UTF-8, by line (read lossily, kept for
    /// the account that takes them to be rejected, naming the cell).
    not_utf8: HashMap<u64, NotUtf8>,
    /// Rows whose account id is not UTF-8 standing where the next rows' accounts'
    /// would, until the account whose rows follow them there is read.
    unmatched: Option<Unmatched>,
    /// Rows whose account id is not UTF-8 that no account could be: line and id shown.
    unowned: Vec<(u64, String)>,
    /// The header, and the field of each column (`[]` for the item's index), for a reject naming them.
    header: StringRecord,
    column_fields: Vec<String>,
    /// Whether the list is nested in another list's items (an item index counts the parent's rows).
    nested: bool,
    /// The list's path (`case.events`).
    list_path: String,
    /// The last rows a row of the input took: their first and last lines and
    /// their account, to tell, when later rows are left over, which may be
    /// out of place (the id's buffer is reused, not allocated per account).
    last_taken: Option<(u64, u64)>,
    last_taken_id: String,
    /// The line of the file's last row when it has no line end (the file
    /// ends inside it: a cut transfer), until an account takes it.
    cut_line: Option<u64>,
}

/// A companion's rows that no row of the input took (the run stops at the
/// end of the input). Whether their account is in the input is known only to
/// the run's account ids (`duplicates::SeenIds`), on the writer's side, so the
/// message is made there ([`LeftOver::message`]).
#[derive(Debug)]
pub struct LeftOver {
    file: String,
    line: u64,
    id: String,
    /// The account whose rows were taken last before them, and their lines.
    after: Option<(String, u64, u64)>,
    /// Whether the row at `line` is the file's last and has no line end.
    cut: bool,
}

impl LeftOver {
    /// The account id of the rows left over.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Why the rows were left over. `in_input`: whether a row of the input
    /// has their account id (`None`: not known). Not in it, that is the
    /// reason; in it, the file is out of the input's order, and the lines of
    /// the rows just before them are named too, as either may be misplaced.
    /// `unreadable_ids`: rejected rows whose account id could not be read.
    pub fn message(&self, in_input: Option<bool>, unreadable_ids: u64) -> String {
        let message = self.reason(in_input, unreadable_ids);
        match self.cut {
            true => format!(
                "{message}; line {} is the file's last and has no line end: the file ends inside it, the sign of a transfer cut short, so its account id may have lost bytes",
                self.line
            ),
            false => message,
        }
    }

    fn reason(&self, in_input: Option<bool>, unreadable_ids: u64) -> String {
        let (file, line) = (&self.file, self.line);
        let id = crate::diagnostic::echoed(&self.id);
        let id = crate::diagnostic::printable(&id);
        let head = format!("companion `{file}` line {line}: account `{id}`'s rows are not taken by any row of the input");
        if in_input == Some(false) {
            let unless = match unreadable_ids {
                0 => String::new(),
                1 => " (unless it is the rejected row whose account id is empty or could not be read)".to_string(),
                n => format!(" (unless it is one of the {n} rejected rows whose account id is empty or could not be read)"),
            };
            // Said once: the input has no such account, so its rows belong to none.
            return format!(
                "companion `{file}` line {line}: no row of the input has account id `{id}`{unless}, so the rows for it from line {line} belong to no account (remove them from `{file}`, or add the account to the extract)"
            );
        }
        let Some((before, first, last)) = &self.after else {
            return match in_input {
                Some(_) => format!("{head}: the file is not in the input's account order, which has `{id}` before any account whose rows precede these (companion files must list accounts in the same order as the input)"),
                None => format!("{head}: account `{id}` is not in the input, or the file is not in the input's account order (companion files must list accounts in the same order as the input)"),
            };
        };
        let before = crate::diagnostic::echoed(before);
        let before = crate::diagnostic::printable(&before);
        let lines = match first == last {
            true => format!("line {first}"),
            false => format!("lines {first}-{last}"),
        };
        let or_absent = match in_input {
            Some(_) => String::new(),
            None => format!(", or account `{id}` is not in the input"),
        };
        format!(
            "{head}: they come after account `{before}`'s ({lines}), and no row of the input after `{before}`'s is `{id}`'s. Either `{before}`'s rows ({lines}) stand before their place (the input has `{id}` before `{before}`: move them after `{id}`'s rows), or `{id}`'s rows from line {line} stand after theirs (`{id}` comes earlier in the input: move them there){or_absent} (companion files must list accounts in the same order as the input)"
        )
    }
}

/// A cell of a companion row that is not UTF-8.
struct NotUtf8 {
    col: usize,
    /// The cell's bytes, the invalid ones shown as `\xFF` ([`shown_bytes`]).
    shown: String,
    /// The cell's bytes trimmed, when it is the account id's.
    key: Option<Vec<u8>>,
}

/// Companion rows whose account id is not UTF-8, which no account can take by
/// id: every account whose rows could stand where they do (from the account
/// whose rows precede them to the one whose rows follow) and whose id it could
/// be is rejected, as one of them is theirs and evaluated without them it
/// would be wrong.
struct Unmatched {
    /// The first row's line, and the id as shown.
    line: u64,
    rows: usize,
    shown: String,
    key: Vec<u8>,
    /// The account whose rows follow them (none: the file ends there).
    next: Option<String>,
    /// Whether an account took them (was rejected for them).
    taken: bool,
}

impl Unmatched {
    /// Whether the broken id could be `id`: ids of a length the bytes do not
    /// tell (a byte lost or added) could; otherwise every ASCII byte must agree.
    fn could_be(&self, id: &str) -> bool {
        let id = id.as_bytes();
        id.len() != self.key.len()
            || self
                .key
                .iter()
                .zip(id)
                .all(|(k, i)| !k.is_ascii() || k == i)
    }

    fn lines(&self) -> String {
        match self.rows {
            1 => format!("line {}", self.line),
            n => format!("{n} rows from line {}", self.line),
        }
    }
}

/// A cell's bytes as text, the bytes that are not UTF-8 shown as `\xFF`,
/// clipped as every echoed cell is (`diagnostic::echoed`).
fn shown_bytes(cell: &[u8]) -> String {
    let mut text = String::new();
    for chunk in cell.utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02X}"));
        }
    }
    crate::diagnostic::printable(&crate::diagnostic::echoed(&text)).into_owned()
}

impl Companion {
    fn key_of<'r>(&self, row: &'r StringRecord) -> &'r str {
        trim_cell(row.get(self.key_col).unwrap_or(""))
    }

    /// The account id of the next rows, if any are left.
    fn head(&self) -> Option<&str> {
        self.key_at(0)
    }

    /// The account id of the `n`-th group of rows from the head (0: the
    /// head) among those read ahead, or of `pending` after them.
    fn key_at(&self, n: usize) -> Option<&str> {
        match self.ahead.get(n) {
            Some(group) => group.first().map(|(_, row)| self.key_of(row)),
            None if n == self.ahead.len() => self.pending.as_ref().map(|(_, row)| self.key_of(row)),
            None => None,
        }
    }

    /// Where among the next `n` accounts' rows `id`'s begin (0: at the head),
    /// reading ahead as far as that; `None` when they are not among them.
    fn position_ahead(&mut self, id: &str, n: usize) -> Result<Option<usize>, BatchError> {
        for i in 0..n {
            if i == self.ahead.len() {
                let Some(key) = self.key_at(i).map(str::to_string) else {
                    return Ok(None);
                };
                if key == id {
                    return Ok(Some(i));
                }
                let group = self.read_pending(&key)?;
                self.ahead.push_back(group);
                continue;
            }
            if self.key_at(i) == Some(id) {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    fn advance(&mut self) -> Result<(), BatchError> {
        let rec = &mut self.next;
        loop {
            let read = read_limited_record(&mut self.reader, &self.start, MAX_RECORD_BYTES, rec)
                .map_err(|stop| {
                    BatchError::Input(
                        stop.message(&format!("companion `{}`", self.file), MAX_RECORD_BYTES),
                    )
                })?;
            match read {
                Ok(false) => {
                    self.done = true;
                    self.pending = None;
                    return Ok(());
                }
                Ok(true) => {
                    let line = rec.position().map(|p| p.line()).unwrap_or(0);
                    if self.start.is_unterminated(self.reader.position().byte()) {
                        // Cut inside its account id: whose row it is cannot be
                        // known (`AC12` cut to `AC1` would join `AC1`'s rows).
                        if rec.len() <= self.key_col + 1 {
                            return Err(BatchError::Input(format!(
                                "companion `{}` line {line}, the file's last, has no line end and ends inside its account id (column `{}`): the transfer was cut short, so the row is no known account's; nothing is written (every row of a companion file, the last one too, ends with a line end: docs/batch.md)",
                                self.file,
                                crate::diagnostic::printable(
                                    self.header.get(self.key_col).unwrap_or("?")
                                ),
                            )));
                        }
                        self.cut_line = Some(line);
                    }
                    // Moved, not copied: the next row is read into a fresh record.
                    let fresh = fresh_record(rec);
                    let row = match StringRecord::from_byte_record(std::mem::replace(rec, fresh)) {
                        Ok(row) => row,
                        Err(e) => {
                            let bytes = e.into_byte_record();
                            let key = bytes.get(self.key_col).unwrap_or(b"");
                            let col = match std::str::from_utf8(key) {
                                Err(_) => self.key_col,
                                Ok(_) => (0..bytes.len())
                                    .find(|&c| std::str::from_utf8(&bytes[c]).is_err())
                                    .unwrap_or(0),
                            };
                            let cell = bytes.get(col).unwrap_or(b"");
                            let row = StringRecord::from_byte_record_lossy(bytes.clone());
                            if !is_blank(&row) {
                                self.not_utf8.insert(
                                    line,
                                    NotUtf8 {
                                        col,
                                        shown: shown_bytes(cell),
                                        key: (col == self.key_col)
                                            .then(|| cell.trim_ascii().to_vec()),
                                    },
                                );
                            }
                            row
                        }
                    };
                    if is_blank(&row) {
                        continue;
                    }
                    self.pending = Some((line, row));
                    return Ok(());
                }
                Err(e) => return Err(BatchError::Input(format!("companion `{}`: {e}", self.file))),
            }
        }
    }

    /// The rows of account `id`, if they come next.
    fn take(&mut self, id: &str) -> Result<Vec<(u64, StringRecord)>, BatchError> {
        let rows = match self.ahead.front() {
            Some(group) => match group.first().is_some_and(|(_, row)| self.key_of(row) == id) {
                true => self.ahead.pop_front().unwrap_or_default(),
                false => Vec::new(),
            },
            None => self.read_pending(id)?,
        };
        if let (Some((first, _)), Some((last, _))) = (rows.first(), rows.last()) {
            self.last_taken = Some((*first, *last));
            self.last_taken_id.clear();
            self.last_taken_id.push_str(id);
        }
        Ok(rows)
    }

    /// The rows from `line` on, account `id`'s, left over: no row of the
    /// input after the one that took the rows before them took them.
    fn left_over(&self, line: u64, id: &str) -> LeftOver {
        LeftOver {
            file: self.file.clone(),
            line,
            id: id.to_string(),
            after: (self.last_taken)
                .filter(|(first, _)| *first < line)
                .map(|(first, last)| (self.last_taken_id.clone(), first, last)),
            cut: self.cut_line == Some(line),
        }
    }

    /// The id of a row whose account id is not UTF-8.
    fn unreadable_key(&self, line: u64) -> Option<&[u8]> {
        // Nearly always empty: no hashing then.
        if self.not_utf8.is_empty() {
            return None;
        }
        self.not_utf8.get(&line).and_then(|bad| bad.key.as_deref())
    }

    /// The rows of account `id` as the input's row of it is read: [`take`],
    /// and then rows whose account id is not UTF-8 that come next. Those
    /// among `id`'s own rows are `id`'s; any others are [`Unmatched`] until the
    /// account whose rows follow them is read.
    ///
    /// [`take`]: Companion::take
    fn take_in_step(&mut self, id: &str) -> Result<Vec<(u64, StringRecord)>, BatchError> {
        let mut rows = self.take(id)?;
        while self.ahead.is_empty() && self.unmatched.is_none() {
            let Some(key) = (self.pending.as_ref())
                .and_then(|(line, _)| self.unreadable_key(*line))
                .map(<[u8]>::to_vec)
            else {
                break;
            };
            let mut run = Vec::new();
            while let Some((line, _)) = &self.pending {
                if self.unreadable_key(*line) != Some(&key[..]) {
                    break;
                }
                run.push(self.pending.take().expect("pending row"));
                self.advance()?;
            }
            if !rows.is_empty() && self.head() == Some(id) {
                rows.extend(run);
                rows.extend(self.read_pending(id)?);
                continue;
            }
            let (line, shown) = (run[0].0, self.not_utf8[&run[0].0].shown.clone());
            for (line, _) in &run {
                self.not_utf8.remove(line);
            }
            self.unmatched = Some(Unmatched {
                line,
                rows: run.len(),
                shown,
                key,
                next: self.head().map(str::to_string),
                taken: false,
            });
        }
        Ok(rows)
    }

    /// Rows whose account id is not UTF-8 could be `id`'s (the row of it being
    /// read): the reason it is not evaluated. Settled once `id` is the account
    /// whose rows follow them (`None`: the input has ended).
    fn unmatched_could_be(&mut self, id: Option<&str>) -> Option<String> {
        let u = self.unmatched.as_mut()?;
        let reason = id.filter(|id| u.could_be(id)).map(|_| {
            u.taken = true;
            let after = match &u.next {
                Some(next) => format!("before account `{}`'s rows there", crate::diagnostic::printable(&crate::diagnostic::echoed(next))),
                None => "at the end of that file".to_string(),
            };
            format!(
                "`{}` {}: the account id (column `{}`) is not valid UTF-8 (`{}`), so the rows cannot be matched to an account by id; they stand where this account's rows would ({after}) and the id could be this account's, so the row is not evaluated (without them it could be wrong)",
                self.file,
                u.lines(),
                crate::diagnostic::printable(self.header.get(self.key_col).unwrap_or("?")),
                u.shown,
            )
        });
        if id.is_none() || u.next.as_deref() == id {
            let u = self.unmatched.take().expect("unmatched rows");
            if !u.taken {
                self.unowned.push((u.line, u.shown));
            }
        }
        reason
    }

    /// Why `id`'s rows `rows` reject its row: a cell that is not UTF-8.
    fn not_utf8_reason(&mut self, rows: &[(u64, StringRecord)]) -> Option<(String, String)> {
        if self.not_utf8.is_empty() {
            return None;
        }
        let mut found = None;
        for (item, (line, _)) in rows.iter().enumerate() {
            if let Some(bad) = self.not_utf8.remove(line) {
                if found.is_none() {
                    let column = self.header.get(bad.col).unwrap_or("?");
                    let field = match self.nested {
                        true => self.column_fields[bad.col].clone(),
                        false => {
                            self.column_fields[bad.col].replacen("[]", &format!("[{item}]"), 1)
                        }
                    };
                    let what = match bad.key {
                        Some(_) => format!(
                            "the account id (column `{}`) of `{}` line {line} is not valid UTF-8 (`{}`); the row stands among this account's rows there, so it is taken as theirs",
                            crate::diagnostic::printable(column),
                            self.file,
                            bad.shown
                        ),
                        None => format!(
                            "column `{}` of `{}` line {line} is not valid UTF-8 (`{}`)",
                            crate::diagnostic::printable(column),
                            self.file,
                            bad.shown
                        ),
                    };
                    found = Some((
                        field,
                        format!("{what}: the companion files are read as UTF-8, so the account's row is not evaluated"),
                    ));
                }
            }
        }
        found
    }

    /// Why `id`'s rows `rows` reject its row: among them the file's last
    /// row, which has no line end (the file ends inside it).
    fn cut_reason(&mut self, rows: &[(u64, StringRecord)]) -> Option<(String, String)> {
        let cut = self.cut_line?;
        let (item, (_, row)) = rows
            .iter()
            .enumerate()
            .find(|(_, (line, _))| *line == cut)?;
        self.cut_line = None;
        let col = row.len().saturating_sub(1);
        let field = match self.nested {
            true => self.column_fields.get(col).cloned().unwrap_or_default(),
            false => (self.column_fields.get(col))
                .map(|f| f.replacen("[]", &format!("[{item}]"), 1))
                .unwrap_or_default(),
        };
        let cell = crate::diagnostic::echoed(row.get(col).unwrap_or(""));
        Some((
            field,
            format!(
                "`{}` line {cut}, the file's last, has no line end: the file ends inside it, the sign of a transfer cut short, so its last cell (column `{}`, read as `{}`) may have lost bytes and the account's row is not evaluated (every row of a companion file, the last one too, ends with a line end: docs/batch.md)",
                self.file,
                crate::diagnostic::printable(self.header.get(col).unwrap_or("?")),
                crate::diagnostic::printable(&cell),
            ),
        ))
    }

    /// `id`'s rows from `pending` on (none when `pending` is another account's).
    fn read_pending(&mut self, id: &str) -> Result<Vec<(u64, StringRecord)>, BatchError> {
        let mut rows = Vec::new();
        while let Some((_, row)) = &self.pending {
            if trim_cell(row.get(self.key_col).unwrap_or("")) != id {
                break;
            }
            rows.push(self.pending.take().expect("pending row"));
            self.advance()?;
        }
        Ok(rows)
    }
}

/// An empty record to read the next row into, sized from the last one with
/// room to spare: the csv reader grows a full record by reallocating, and a
/// record sized exactly would grow on nearly every row.
fn fresh_record(last: &ByteRecord) -> ByteRecord {
    let bytes = last.as_slice().len();
    ByteRecord::with_capacity(bytes + bytes / 2 + 16, last.len() + 2)
}

/// Whether every cell of a row is empty or whitespace.
fn is_blank(row: &StringRecord) -> bool {
    let bytes = row.as_byte_record().as_slice();
    if bytes.is_ascii() {
        bytes.iter().all(u8::is_ascii_whitespace)
    } else {
        row.iter().all(|c| trim_cell(c).is_empty())
    }
}

/// A CSV extract with its header, and its companion files.
/// Row buffers kept for reuse: two parts' worth.
const MAX_SPARE_RECORDS: usize = 2 * super::PART_ROWS;
/// The longest record whose buffer is kept for reuse.
const MAX_SPARE_RECORD_BYTES: usize = 4096;

/// A mapped list's companion file: its path, and why it cannot be read when
/// it cannot (missing, a device), said with the headers' problems.
#[derive(Debug, Clone)]
pub struct CompanionFile {
    pub path: PathBuf,
    pub unusable: Option<super::HeaderError>,
}

impl From<PathBuf> for CompanionFile {
    /// A file to read (found, or a FIFO).
    fn from(path: PathBuf) -> Self {
        CompanionFile {
            path,
            unusable: None,
        }
    }
}

pub struct CsvSource {
    /// The mapping's lists, read or not: each row carries one entry per list.
    lists: usize,
    reader: csv::Reader<Box<dyn Read + Send>>,
    start: RecordStart,
    max_record: usize,
    width: usize,
    id_col: usize,
    companions: Vec<Companion>,
    /// The header rows read: the input's, then each companion's (`diff` binds a second mapping to them).
    pub headers: Vec<StringRecord>,
    /// Rows already evaluated, whose buffers the next rows are read into.
    spare: Vec<ByteRecord>,
    /// The account id of the last row read, and its line.
    last_id: String,
    last_line: u64,
    /// The fields the input's columns are mapped to, by column (a reject names them).
    column_fields: Vec<Option<String>>,
    /// Rejected rows without an account id, waiting for the next row that has one.
    unkeyed: Vec<Unkeyed>,
    /// Per companion, the lines of rows without an account id whose rows there
    /// are not found yet.
    lost: Vec<Vec<u64>>,
    /// Accounts whose companion rows a row without an id took, by id.
    adopted: HashMap<String, Adoption>,
}

/// A row whose account id is blank or not UTF-8: rejected, and held until
/// the next row with an id, so that the companion rows between the two
/// (its own, keyed by the id it lost) are accounted for as its.
struct Unkeyed {
    line: u64,
    reason: String,
    /// The companion rows found keyed by the id it lost: file, lines, key.
    adopted: Vec<String>,
}

/// Companion rows of account `id` that a row without an id took.
struct Adoption {
    row_line: u64,
    file: String,
    companion_line: u64,
}

impl CsvSource {
    /// Reads the header (and each companion's header) and binds the mapping to
    /// them. `companion_files` are the files of the mapping's lists that are
    /// read ([`Mapping::read_lists`]), in order; one marked unusable (missing)
    /// is said with the headers' problems, in one message.
    pub fn open(
        input: Box<dyn Read + Send>,
        mapping: &mut Mapping,
        companion_files: &[CompanionFile],
    ) -> Result<CsvSource, String> {
        let (mut reader, start) = limited_csv_reader(input, MAX_RECORD_BYTES);
        let header = reader
            .headers()
            .map_err(|e| match is_too_long(&e) {
                true => too_long_message("the input's", 1, MAX_RECORD_BYTES),
                false => format!("cannot read the header row: {e}"),
            })?
            .clone();
        if header.is_empty() && reader.is_done() {
            return Err(
                "the input is empty (no header row): a CSV extract starts with its header".into(),
            );
        }
        // Every file's header is checked before the run stops, so that one run names every
        // missing column.
        // A companion file that is not there is one of them, with its way out
        // (`--no-companion`), so that one run names the missing files and columns alike.
        let mut problems: Vec<super::HeaderError> =
            mapping.bind(&header).err().into_iter().collect();
        let mut headers = vec![header.clone()];
        let mut companions = Vec::new();
        let read: Vec<usize> = mapping.read_lists().collect();
        for (&n, companion) in read.iter().zip(companion_files) {
            if let Some(problem) = &companion.unusable {
                problems.push(problem.clone());
                continue;
            }
            let path = &companion.path;
            let (mut reader, start) = limited_csv_reader(open_input(path)?, MAX_RECORD_BYTES);
            let file = path.display().to_string();
            let header = reader
                .headers()
                .map_err(|e| match is_too_long(&e) {
                    true => too_long_message(&format!("companion `{file}`"), 1, MAX_RECORD_BYTES),
                    false => format!("companion `{file}`: cannot read the header row: {e}"),
                })?
                .clone();
            if header.is_empty() && reader.is_done() {
                problems.push(super::HeaderError::from(format!(
                    "companion `{file}` is empty (no header row): a companion file starts with its header, even when it has no rows"
                )));
                continue;
            }
            if let Err(e) = mapping.bind_list(n, &header, &format!("companion `{file}`")) {
                problems.push(e);
                continue;
            }
            if !problems.is_empty() {
                continue;
            }
            mapping.read_from(n, &file);
            headers.push(header.clone());
            let mut c = Companion {
                list: n,
                file,
                reader,
                start,
                key_col: mapping.lists[n].key_col,
                pending: None,
                done: false,
                next: ByteRecord::with_capacity(256, header.len() + 2),
                ahead: Default::default(),
                not_utf8: HashMap::new(),
                unmatched: None,
                unowned: Vec::new(),
                column_fields: (0..header.len())
                    .map(|col| mapping.list_field_of_column(n, col, usize::MAX))
                    .map(|field| field.replace(&format!("[{}]", usize::MAX), "[]"))
                    .collect(),
                nested: mapping.lists[n].parent_col.is_some(),
                list_path: mapping.lists[n].path.clone(),
                header: header.clone(),
                last_taken: None,
                last_taken_id: String::new(),
                cut_line: None,
            };
            c.advance().map_err(|e| e.to_string())?;
            companions.push(c);
        }
        if !problems.is_empty() {
            return Err(super::header_errors(problems));
        }
        Ok(CsvSource {
            lost: vec![Vec::new(); companions.len()],
            lists: mapping.lists.len(),
            reader,
            start,
            max_record: MAX_RECORD_BYTES,
            width: header.len(),
            id_col: mapping.id_col,
            companions,
            headers,
            spare: Vec::new(),
            last_id: String::new(),
            last_line: 0,
            column_fields: (0..header.len())
                .map(|col| mapping.field_of_column(col))
                .collect(),
            unkeyed: Vec::new(),
            adopted: HashMap::new(),
        })
    }
}

/// The csv reader's buffer: also the most it reads ahead of a record.
const CSV_BUFFER: usize = 1 << 20;
/// The buffer `RecordLimited` reads through to find `\r\n` (the limit's
/// read-ahead allowance, one `CSV_BUFFER`, covers it).
const LINE_END_BUFFER: usize = 64 << 10;

fn csv_reader(input: Box<dyn Read + Send>) -> csv::Reader<Box<dyn Read + Send>> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(CSV_BUFFER)
        .from_reader(input)
}

impl CsvSource {
    fn column_name(&self, col: usize) -> &str {
        self.headers[0].get(col).unwrap_or("?")
    }

    fn field_of(&self, col: usize) -> Option<String> {
        self.column_fields.get(col).cloned().flatten()
    }

    /// Why the input's last row, which has no line end, is rejected: its
    /// last cell may have lost bytes.
    fn cut_reason(&self, record: &StringRecord) -> String {
        let col = record.len().saturating_sub(1);
        let cell = crate::diagnostic::echoed(record.get(col).unwrap_or(""));
        let columns = match record.len() == self.width {
            true => String::new(),
            false => format!(
                " (it has {} of the header's {} columns)",
                record.len(),
                self.width
            ),
        };
        format!(
            "the row has no line end: the file ends inside it, the sign of a transfer cut short, so its last cell (column `{}`, read as `{}`) may have lost bytes{columns} and the row is not evaluated (every row of an extract, the last one too, ends with a line end: docs/batch.md)",
            crate::diagnostic::printable(self.column_name(col)),
            crate::diagnostic::printable(&cell),
        )
    }

    /// Why a row with a cell that is not UTF-8 is rejected, naming the column.
    fn not_utf8_reason(&self, row: &ByteRecord, col: usize) -> String {
        format!(
            "column `{}` is not valid UTF-8 (`{}`): the extract is read as UTF-8, so the row is not evaluated",
            crate::diagnostic::printable(self.column_name(col)),
            shown_bytes(row.get(col).unwrap_or(b"")),
        )
    }

    /// Before the row of account `next` (`None`: the input has ended), finds
    /// the companion rows of the rows without an id, then writes those rows'
    /// rejects. A companion's rows of such a row are keyed by the id it lost:
    /// an account's rows at the head of the file that `next`'s rows follow
    /// (or that no row follows, at the end) belong to no row to come, since
    /// the files are in the input's order. While `next` has no rows in a
    /// file, the head there may be a later account's, so it is left.
    fn release_unkeyed(
        &mut self,
        next: Option<&str>,
        out: &mut Vec<Unit>,
    ) -> Result<(), BatchError> {
        for (c, lost) in self.companions.iter_mut().zip(&mut self.lost) {
            // The rows without an id came in input order, so the accounts whose rows stand
            // before `next`'s are theirs, in order: known once `next`'s rows show among the
            // next `lost + 1` accounts here (if `next` has none here, wait for a later row).
            let theirs = match next {
                Some(id) => match c.position_ahead(id, lost.len() + 1)? {
                    Some(at) => at,
                    None => continue,
                },
                None => lost.len(),
            };
            let lines: Vec<u64> = std::mem::take(lost);
            for &row_line in lines.iter().take(theirs) {
                let Some(key) = c.head().map(str::to_string) else {
                    break;
                };
                let rows = c.take(&key)?;
                if let Some(held) = self.unkeyed.iter_mut().find(|u| u.line == row_line) {
                    held.adopted.push(rows_text(&c.file, &rows, &key));
                }
                self.adopted.entry(key).or_insert(Adoption {
                    row_line,
                    file: c.file.clone(),
                    companion_line: rows[0].0,
                });
            }
        }
        let field = self.field_of(self.id_col);
        for held in self.unkeyed.drain(..) {
            let mut reason = held.reason;
            if !held.adopted.is_empty() {
                reason.push_str(&format!(
                    "; its companion rows, keyed by the id it lost, are taken with it and not evaluated either: {}",
                    held.adopted.join(", ")
                ));
            }
            let open: Vec<String> = (self.companions.iter().zip(&self.lost))
                .filter(|(_, lost)| lost.contains(&held.line))
                .map(|(c, _)| format!("`{}`", c.file))
                .collect();
            if !open.is_empty() {
                reason.push_str(&format!(
                    "; in {} the rows of an account no later row has, just before the next account's rows there, will be taken with it too",
                    open.join(", ")
                ));
            }
            out.push(Unit {
                line: held.line,
                raw: Raw::Bad {
                    id: None,
                    field: field.clone(),
                    reason,
                },
            });
        }
        Ok(())
    }
}

/// The reject of the row at `line` (of account `id`, if it has one) for `reason`, naming no field.
fn rejected(line: u64, id: Option<String>, reason: String) -> Unit {
    Unit {
        line,
        raw: Raw::Bad {
            id,
            field: None,
            reason,
        },
    }
}

/// A companion's rows of one account, for a reject: `` `x.sas.csv` lines 3-4 (account `AC2`) ``.
fn rows_text(file: &str, rows: &[(u64, StringRecord)], key: &str) -> String {
    let (first, last) = (rows[0].0, rows[rows.len() - 1].0);
    let lines = match first == last {
        true => format!("line {first}"),
        false => format!("lines {first}-{last}"),
    };
    format!(
        "`{file}` {lines} (account `{}`)",
        crate::diagnostic::printable(key)
    )
}

impl RowSource for CsvSource {
    fn next_chunk(&mut self, n: usize, out: &mut Vec<Unit>) -> Result<bool, BatchError> {
        let mut rec = ByteRecord::with_capacity(1024, self.width + 2);
        while out.len() < n {
            let read =
                read_limited_record(&mut self.reader, &self.start, self.max_record, &mut rec)
                    .map_err(|stop| BatchError::Input(stop.message("input", self.max_record)))?;
            let more = match read {
                Ok(more) => more,
                Err(e) if e.is_io_error() => {
                    return Err(BatchError::Input(format!("reading the input: {e}")))
                }
                Err(e) => {
                    // A broken row: report it and carry on with the next one.
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    out.push(rejected(line, None, format!("unreadable CSV row: {e}")));
                    continue;
                }
            };
            if !more {
                self.release_unkeyed(None, out)?;
                for c in &mut self.companions {
                    c.unmatched_could_be(None);
                }
                return Ok(false);
            }
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let cut = self.start.is_unterminated(self.reader.position().byte());
            let fresh = match self.spare.pop() {
                Some(mut spare) => {
                    spare.clear();
                    spare
                }
                None => fresh_record(&rec),
            };
            // A row that is not valid UTF-8 keeps its bytes, so that its id
            // (read lossily, as companion rows are) still takes its companion rows.
            let row = StringRecord::from_byte_record(std::mem::replace(&mut rec, fresh))
                .map_err(|e| (e.utf8_error().field(), e.into_byte_record()));
            let (id, id_readable) = match &row {
                Ok(row) => (
                    Cow::Borrowed(trim_cell(row.get(self.id_col).unwrap_or(""))),
                    true,
                ),
                Err((_, bytes)) => {
                    let cell = bytes.get(self.id_col).unwrap_or(b"");
                    let lossy = String::from_utf8_lossy(cell);
                    let readable = std::str::from_utf8(cell).is_ok();
                    (Cow::Owned(trim_cell(&lossy).to_string()), readable)
                }
            };
            // A row cut inside its account id has lost the id: no account's,
            // as a blank one is, so that the real account is not taken as
            // absent (its open case closed) or as another under a shorter id.
            let cells = match &row {
                Ok(record) => record.len(),
                Err((_, bytes)) => bytes.len(),
            };
            let id_cut = cut && cells <= self.id_col + 1;
            let keyed = id_readable && !id.is_empty() && !id_cut;
            if keyed && (!self.unkeyed.is_empty() || self.lost.iter().any(|l| !l.is_empty())) {
                self.release_unkeyed(Some(&id), out)?;
            }
            // A row repeating the one before (a line sent twice): its
            // account's companion rows went with the first, so evaluated it
            // would be a different account without its lists.
            if keyed && *id == *self.last_id {
                for c in &mut self.companions {
                    c.take(&id)?;
                }
                out.push(rejected(line, Some(id.to_string()), format!(
                            "account `{}` repeats the row at line {}, its first row (which took its companion rows); an account has one row, so this one is not evaluated",
                            crate::diagnostic::printable(&crate::diagnostic::echoed(&id)),
                            self.last_line
                        )));
                continue;
            }
            self.last_id.clear();
            self.last_id.push_str(&id);
            self.last_line = line;
            // A list not read (`--no-companion`) is empty for every account.
            // A blank id takes the rows keyed by a blank id (none, nearly always).
            let mut lists = vec![Vec::new(); self.lists];
            let mut companion_reject = None;
            for c in &mut self.companions {
                if !keyed {
                    lists[c.list] = c.take(&id)?;
                    continue;
                }
                let before = c.unmatched_could_be(Some(&id));
                lists[c.list] = c.take_in_step(&id)?;
                let after = c.unmatched_could_be(Some(&id));
                let found = before
                    .or(after)
                    .map(|reason| (format!("account.{}", c.list_path), reason))
                    .or_else(|| c.not_utf8_reason(&lists[c.list]))
                    .or_else(|| c.cut_reason(&lists[c.list]));
                if companion_reject.is_none() {
                    companion_reject = found;
                }
            }
            if !keyed {
                // No account to name: held until the next account's row shows
                // which companion rows came between the two.
                let reason = match &row {
                    Ok(record) if id_cut => self.cut_reason(record),
                    Err((_, bytes)) if !id_readable => self.not_utf8_reason(bytes, self.id_col),
                    _ => format!(
                        "the account id (column `{}`) is empty, so the row is no account's and is not evaluated",
                        crate::diagnostic::printable(self.column_name(self.id_col))
                    ),
                };
                let mut adopted = Vec::new();
                for (c, lost) in self.companions.iter().zip(&mut self.lost) {
                    match &lists[c.list][..] {
                        [] => lost.push(line),
                        rows => adopted.push(rows_text(&c.file, rows, &id)),
                    }
                }
                self.unkeyed.push(Unkeyed {
                    line,
                    reason,
                    adopted,
                });
                continue;
            }
            if !self.adopted.is_empty() {
                if let Some(adoption) = self.adopted.remove(&*id) {
                    out.push(rejected(line, Some(id.to_string()), format!(
                                "account `{}`'s rows in `{}` (line {}) came right after the row at line {}, whose account id is empty or not UTF-8, and were taken as that row's; evaluated without them this row would be wrong, so it is not (the companion file is out of the input's order, or line {} is this account's row with its id broken)",
                                crate::diagnostic::printable(&crate::diagnostic::echoed(&id)),
                                adoption.file,
                                adoption.companion_line,
                                adoption.row_line,
                                adoption.row_line,
                            )));
                    continue;
                }
            }
            let rejected = cut
                || match &row {
                    Ok(record) => record.len() != self.width,
                    Err(_) => true,
                };
            let bad_id = rejected.then(|| id.into_owned());
            let raw = match row {
                Ok(record) if cut => {
                    let last = record.len().saturating_sub(1);
                    Raw::Bad {
                        id: bad_id,
                        field: self.field_of(last),
                        reason: self.cut_reason(&record),
                    }
                }
                Ok(record) if record.len() == self.width && companion_reject.is_some() => {
                    let (field, reason) = companion_reject.expect("a companion's reject");
                    Raw::Bad {
                        id: Some(
                            record
                                .get(self.id_col)
                                .map(trim_cell)
                                .unwrap_or("")
                                .to_string(),
                        ),
                        field: Some(field),
                        reason,
                    }
                }
                Err((col, bytes)) => Raw::Bad {
                    id: bad_id,
                    field: self.field_of(col),
                    reason: self.not_utf8_reason(&bytes, col),
                },
                Ok(record) if record.len() != self.width => Raw::Bad {
                    id: bad_id,
                    field: None,
                    reason: format!("expected {} columns, found {}", self.width, record.len()),
                },
                Ok(record) => Raw::Csv { record, lists },
            };
            out.push(Unit { line, raw });
        }
        Ok(true)
    }

    fn recycle(&mut self, units: &mut Vec<Unit>) {
        for unit in units.drain(..) {
            if self.spare.len() >= MAX_SPARE_RECORDS {
                break;
            }
            match unit.raw {
                // A long record's buffer is not kept for the short ones.
                Raw::Csv { record, .. }
                    if record.as_byte_record().as_slice().len() <= MAX_SPARE_RECORD_BYTES =>
                {
                    self.spare.push(record.into_byte_record())
                }
                _ => {}
            }
        }
    }

    fn finish(&mut self) -> Result<(), BatchError> {
        for c in &self.companions {
            if let Some((line, shown)) = c.unowned.first() {
                return Err(BatchError::Input(format!(
                    "companion `{}` line {line}: the account id (column `{}`) is not valid UTF-8 (`{shown}`), and no account of the input whose rows could stand there has an id it could be, so the rows belong to no row (fix the byte, or the file is not in the input's account order)",
                    c.file,
                    crate::diagnostic::printable(c.header.get(c.key_col).unwrap_or("?")),
                )));
            }
            if let Some((line, row)) = c
                .ahead
                .front()
                .and_then(|g| g.first())
                .or(c.pending.as_ref())
            {
                return Err(BatchError::LeftOver(c.left_over(*line, c.key_of(row))));
            }
            let _ = c.done;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_too_long_record(input: String, limit: usize) -> Option<u64> {
        let (mut reader, start) =
            limited_csv_reader(Box::new(std::io::Cursor::new(input.into_bytes())), limit);
        reader.headers().unwrap();
        let mut rec = ByteRecord::new();
        loop {
            match read_limited_record(&mut reader, &start, limit, &mut rec) {
                Err(Stop::TooLong(line)) => return Some(line),
                Err(stop) => panic!("{stop:?}"),
                Ok(Ok(true)) => {}
                Ok(other) => {
                    other.unwrap();
                    return None;
                }
            }
        }
    }

    /// A quoted field of many short lines is one long record: past the
    /// limit, the line where it starts is named. Below a buffer of
    /// read-ahead it is measured once read; past it the input stops feeding.
    #[test]
    fn a_csv_record_past_the_limit_names_its_first_line() {
        let field = |bytes: usize| "ab\n".repeat(bytes / 3);
        let csv = |f: String| format!("id,note\na,short\nb,\"{f}\"\nc,after\n");
        assert_eq!(first_too_long_record(csv(field(90)), 100), None);
        assert_eq!(first_too_long_record(csv(field(300)), 100), Some(3));
        assert_eq!(
            first_too_long_record(csv(field(3 * CSV_BUFFER)), 100),
            Some(3)
        );
    }
}
