//! The overnight batch: a large extract (CSV with companion files, or JSON
//! Lines) through the policy, streamed in chunks, evaluated in parallel, with
//! actions written in input order and every unreadable row accounted for as a
//! reject (docs/batch.md).
//! It must not decide anything itself: every action comes from
//! `policy::run_needed` (or `run`).
//!
//! Reading is one thread, evaluation is rayon over a chunk, writing is one
//! thread; at most a few chunks are in flight, so memory does not grow with
//! the input.

pub mod mapping;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};

use chrono::NaiveDate;
use csv::{ByteRecord, StringRecord};
use serde::Serialize;

use crate::data::snapshot::{account_id, decode_account, FieldError};
use crate::policy::{Action, ActionKind, Policy};
use mapping::trim_cell;
pub use mapping::{Mapping, MappingError};

/// Rows per chunk read, evaluated and written together.
pub const CHUNK_ROWS: usize = 8 * 1024;
/// The most rows `--chunk-rows` may hold in memory at once (three chunks are in flight).
pub const MAX_CHUNK_ROWS: usize = 1_000_000;
/// The most worker threads `--threads` may start.
pub const MAX_THREADS: usize = 1024;
/// Rows per rayon task inside a chunk.
const PART_ROWS: usize = 512;
/// The longest record read (a JSON Lines line, a CSV record with its quoted
/// newlines), after decompression: a longer JSON Lines line is a reject, a
/// longer CSV record stops the batch (docs/batch.md).
pub const MAX_RECORD_BYTES: usize = 16 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    Csv,
    Jsonl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Jsonl,
    Csv,
}

/// One row as read, not yet decoded.
pub enum Raw {
    Csv {
        record: StringRecord,
        lists: Vec<Vec<(u64, StringRecord)>>,
    },
    Json(String),
    /// Could not even be split into cells.
    Bad {
        id: Option<String>,
        reason: String,
    },
}

pub struct Unit {
    /// Line number in the input file (header = line 1 for CSV).
    pub line: u64,
    pub raw: Raw,
}

/// Why a batch stopped before the end.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{0}")]
    Input(String),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    #[error("more than {0} rows rejected (--max-rejects); stopped")]
    TooManyRejects(u64),
}

/// A source of rows, read on its own thread.
pub trait RowSource: Send {
    /// Appends up to `n` rows; `false` once the input is exhausted.
    fn next_chunk(&mut self, n: usize, out: &mut Vec<Unit>) -> Result<bool, BatchError>;
    /// Called after the last row: companion rows left over are an error.
    fn finish(&mut self) -> Result<(), BatchError> {
        Ok(())
    }
}

/// Opens a file, decompressing `.gz` on the fly. The input is streamed, so a
/// FIFO (`<(zcat extract.csv.gz)`) is fine; a device or socket is refused (a
/// device such as `/dev/zero` never ends).
pub fn open_input(path: &Path) -> Result<Box<dyn Read + Send>, String> {
    let cannot = |e: std::io::Error| format!("cannot read `{}`: {e}", path.display());
    let ft = std::fs::metadata(path).map_err(cannot)?.file_type();
    if !(ft.is_file() || std::os::unix::fs::FileTypeExt::is_fifo(&ft)) {
        return Err(format!(
            "`{}` is {}, not a file or a FIFO",
            path.display(),
            crate::input::kind_of(ft)
        ));
    }
    let file = File::open(path).map_err(cannot)?;
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(
            BufReader::with_capacity(1 << 20, file),
        )))
    } else {
        Ok(Box::new(file))
    }
}

/// The input's format from its extension (`.csv`, `.jsonl`, optionally `.gz`).
pub fn format_from_path(path: &Path) -> Option<InputFormat> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".csv") {
        Some(InputFormat::Csv)
    } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        Some(InputFormat::Jsonl)
    } else {
        None
    }
}

/// The input's file name without `.gz` and its format extension: `extract` for `extract.csv.gz`.
pub fn input_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    match name.rfind('.') {
        Some(i) if i > 0 => name[..i].to_string(),
        _ => name.to_string(),
    }
}

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

/// `16 MiB`, or the bytes when not whole MiB.
fn bytes_text(n: usize) -> String {
    if n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// A CSV input that fails once the record being read grows past its limit:
/// the csv reader would otherwise buffer a record of any length. The reader
/// tells it where each record starts ([`RecordStart`]); the bytes handed over
/// since then are the record plus at most one buffer of read-ahead.
struct RecordLimited {
    inner: Box<dyn Read + Send>,
    fed: u64,
    start: RecordStart,
    limit: u64,
}

/// Where the record being read starts, shared by a csv reader's owner and its input.
#[derive(Clone, Default)]
struct RecordStart(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl RecordStart {
    fn set(&self, byte: u64) {
        self.0.store(byte, std::sync::atomic::Ordering::Relaxed);
    }
    fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
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
        let n = self.inner.read(buf)?;
        self.fed += n as u64;
        Ok(n)
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
        inner: input,
        fed: 0,
        start: start.clone(),
        limit: limit as u64,
    };
    (csv_reader(Box::new(limited)), start)
}

/// Reads the next record of a limited CSV reader: `Err(line)` when it is
/// longer than `limit` bytes. A CSV record cannot be skipped (the newline
/// that ends it may be inside quotes), so the caller stops there.
fn read_limited_record(
    reader: &mut csv::Reader<Box<dyn Read + Send>>,
    start: &RecordStart,
    limit: usize,
    rec: &mut ByteRecord,
) -> Result<Result<bool, csv::Error>, u64> {
    let at = reader.position().clone();
    start.set(at.byte());
    match reader.read_byte_record(rec) {
        Err(e) if is_too_long(&e) => Err(at.line()),
        Ok(true) if reader.position().byte() - at.byte() > limit as u64 => Err(at.line()),
        other => Ok(other),
    }
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
    file: String,
    reader: csv::Reader<Box<dyn Read + Send>>,
    start: RecordStart,
    key_col: usize,
    pending: Option<(u64, StringRecord)>,
    done: bool,
    /// The record the next row is read into, sized like the last row.
    next: ByteRecord,
}

impl Companion {
    fn advance(&mut self) -> Result<(), BatchError> {
        let rec = &mut self.next;
        loop {
            let read = read_limited_record(&mut self.reader, &self.start, MAX_RECORD_BYTES, rec)
                .map_err(|line| {
                    BatchError::Input(too_long_message(
                        &format!("companion `{}`", self.file),
                        line,
                        MAX_RECORD_BYTES,
                    ))
                })?;
            match read {
                Ok(false) => {
                    self.done = true;
                    self.pending = None;
                    return Ok(());
                }
                Ok(true) => {
                    let line = rec.position().map(|p| p.line()).unwrap_or(0);
                    // Moved, not copied: the next row is read into a fresh record.
                    let fresh = fresh_record(rec);
                    let row = StringRecord::from_byte_record_lossy(std::mem::replace(rec, fresh));
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
pub struct CsvSource {
    reader: csv::Reader<Box<dyn Read + Send>>,
    start: RecordStart,
    max_record: usize,
    width: usize,
    id_col: usize,
    companions: Vec<Companion>,
}

impl CsvSource {
    /// Reads the header (and each companion's header) and binds the mapping to
    /// them. `companion_paths[n]` is the file of `mapping.lists[n]`.
    pub fn open(
        input: Box<dyn Read + Send>,
        mapping: &mut Mapping,
        companion_paths: &[PathBuf],
    ) -> Result<CsvSource, String> {
        let (mut reader, start) = limited_csv_reader(input, MAX_RECORD_BYTES);
        let header = reader
            .headers()
            .map_err(|e| match is_too_long(&e) {
                true => too_long_message("the input's", 1, MAX_RECORD_BYTES),
                false => format!("cannot read the header row: {e}"),
            })?
            .clone();
        mapping.bind(&header)?;
        let mut companions = Vec::new();
        for (n, path) in companion_paths.iter().enumerate() {
            let (mut reader, start) = limited_csv_reader(open_input(path)?, MAX_RECORD_BYTES);
            let file = path.display().to_string();
            let header = reader
                .headers()
                .map_err(|e| match is_too_long(&e) {
                    true => too_long_message(&format!("companion `{file}`"), 1, MAX_RECORD_BYTES),
                    false => format!("companion `{file}`: cannot read the header row: {e}"),
                })?
                .clone();
            mapping.bind_list(n, &header, &format!("companion `{file}`"))?;
            let mut c = Companion {
                file,
                reader,
                start,
                key_col: mapping.lists[n].key_col,
                pending: None,
                done: false,
                next: ByteRecord::with_capacity(256, header.len() + 2),
            };
            c.advance().map_err(|e| e.to_string())?;
            companions.push(c);
        }
        Ok(CsvSource {
            reader,
            start,
            max_record: MAX_RECORD_BYTES,
            width: header.len(),
            id_col: mapping.id_col,
            companions,
        })
    }
}

/// The csv reader's buffer: also the most it reads ahead of a record.
const CSV_BUFFER: usize = 1 << 20;

fn csv_reader(input: Box<dyn Read + Send>) -> csv::Reader<Box<dyn Read + Send>> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(CSV_BUFFER)
        .from_reader(input)
}

impl RowSource for CsvSource {
    fn next_chunk(&mut self, n: usize, out: &mut Vec<Unit>) -> Result<bool, BatchError> {
        let mut rec = ByteRecord::with_capacity(1024, self.width + 2);
        while out.len() < n {
            let read =
                read_limited_record(&mut self.reader, &self.start, self.max_record, &mut rec)
                    .map_err(|line| {
                        BatchError::Input(too_long_message("input", line, self.max_record))
                    })?;
            let more = match read {
                Ok(more) => more,
                Err(e) if e.is_io_error() => {
                    return Err(BatchError::Input(format!("reading the input: {e}")))
                }
                Err(e) => {
                    // A broken row: report it and carry on with the next one.
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    out.push(Unit {
                        line,
                        raw: Raw::Bad {
                            id: None,
                            reason: format!("unreadable CSV row: {e}"),
                        },
                    });
                    continue;
                }
            };
            if !more {
                return Ok(false);
            }
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let fresh = fresh_record(&rec);
            let record = match StringRecord::from_byte_record(std::mem::replace(&mut rec, fresh)) {
                Ok(r) => r,
                Err(_) => {
                    out.push(Unit {
                        line,
                        raw: Raw::Bad {
                            id: None,
                            reason: "row is not valid UTF-8".into(),
                        },
                    });
                    continue;
                }
            };
            let id = trim_cell(record.get(self.id_col).unwrap_or(""));
            let mut lists = Vec::with_capacity(self.companions.len());
            for c in &mut self.companions {
                lists.push(if id.is_empty() {
                    Vec::new()
                } else {
                    c.take(id)?
                });
            }
            let raw = if record.len() != self.width {
                Raw::Bad {
                    id: (!id.is_empty()).then(|| id.to_string()),
                    reason: format!("expected {} columns, found {}", self.width, record.len()),
                }
            } else {
                Raw::Csv { record, lists }
            };
            out.push(Unit { line, raw });
        }
        Ok(true)
    }

    fn finish(&mut self) -> Result<(), BatchError> {
        for c in &self.companions {
            if let Some((line, row)) = &c.pending {
                return Err(BatchError::Input(format!(
                    "companion `{}` line {line}: account `{}` is not in the input, or the file is not in the input's account order (companion files must list accounts in the same order as the input)",
                    c.file,
                    row.get(c.key_col).unwrap_or("")
                )));
            }
            let _ = c.done;
        }
        Ok(())
    }
}

/// Counts by category, in key order (deterministic JSON).
pub type Counts = BTreeMap<String, u64>;

fn bump(counts: &mut Counts, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            counts.insert(key.to_string(), 1);
        }
    }
}

/// What a batch did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub rows_read: u64,
    pub evaluated: u64,
    pub rejected: u64,
    pub actions: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// `rows_read == evaluated + rejected`.
    pub balanced: bool,
    /// Every table was evaluated (`--all-tables`), not only those the actions read.
    pub all_tables: bool,
    pub entry_category: Counts,
    pub collection_class: Counts,
    pub experiment_arm: Counts,
    pub action_type: Counts,
    pub promise_outcome: Counts,
    pub severance_nominations: u64,
    pub severance_nominated_sas: u64,
    /// Evaluated rows whose account id an earlier evaluated row had: each got
    /// its own actions (two cases for one account).
    pub duplicate_account_ids: u64,
    /// The first few of those ids (each once), in input order.
    pub duplicate_account_id_examples: Vec<String>,
}

/// Duplicate account ids shown in the summary.
const DUPLICATE_EXAMPLES: usize = 5;

impl Summary {
    fn merge(&mut self, other: Summary) {
        self.evaluated += other.evaluated;
        self.rejected += other.rejected;
        self.actions += other.actions;
        for (mine, theirs) in [
            (&mut self.entry_category, other.entry_category),
            (&mut self.collection_class, other.collection_class),
            (&mut self.experiment_arm, other.experiment_arm),
            (&mut self.action_type, other.action_type),
            (&mut self.promise_outcome, other.promise_outcome),
        ] {
            for (k, v) in theirs {
                *mine.entry(k).or_default() += v;
            }
        }
        self.severance_nominations += other.severance_nominations;
        self.severance_nominated_sas += other.severance_nominated_sas;
    }

    fn tally(&mut self, actions: &[Action]) {
        self.actions += actions.len() as u64;
        for a in actions {
            bump(&mut self.action_type, a.kind.name());
            match &a.kind {
                ActionKind::OpenCase { category, .. } => bump(&mut self.entry_category, category),
                ActionKind::AssignClass { class, .. } => bump(
                    &mut self.collection_class,
                    class.as_deref().unwrap_or("null"),
                ),
                ActionKind::AssignArm {
                    experiment, arm, ..
                } => bump(&mut self.experiment_arm, &format!("{experiment}/{arm}")),
                ActionKind::PromiseOutcome { status, .. } => {
                    let s = serde_json::to_value(status).ok();
                    let s = s.as_ref().and_then(|v| v.as_str()).unwrap_or("?");
                    bump(&mut self.promise_outcome, s)
                }
                ActionKind::NominateSeverance { sas } => {
                    self.severance_nominations += 1;
                    self.severance_nominated_sas += sas.len() as u64;
                }
                _ => {}
            }
        }
    }

    /// For people, on stderr.
    pub fn human(&self) -> String {
        let mut s = format!(
            "{} rows read: {} evaluated, {} rejected{}; {} actions in {:.2} s ({:.0} rows/s)\n",
            self.rows_read,
            self.evaluated,
            self.rejected,
            if self.balanced {
                ""
            } else {
                " -- DOES NOT ADD UP"
            },
            self.actions,
            self.seconds,
            self.rows_per_second
        );
        if self.all_tables {
            s.push_str("  every table evaluated (--all-tables)\n");
        }
        for (title, counts) in [
            ("entry category", &self.entry_category),
            ("collection class", &self.collection_class),
            ("experiment arm", &self.experiment_arm),
            ("action type", &self.action_type),
            ("promise outcome", &self.promise_outcome),
        ] {
            if counts.is_empty() {
                continue;
            }
            let items: Vec<String> = counts
                .iter()
                .map(|(k, v)| format!("{} {v}", crate::diagnostic::printable(k)))
                .collect();
            s.push_str(&format!("  {title:<17} {}\n", items.join(", ")));
        }
        s.push_str(&format!(
            "  {:<17} {} nominations, {} SAs\n",
            "severance", self.severance_nominations, self.severance_nominated_sas
        ));
        if self.duplicate_account_ids > 0 {
            let examples: Vec<String> = self
                .duplicate_account_id_examples
                .iter()
                .map(|id| format!("`{id}`"))
                .collect();
            s.push_str(&format!(
                "warning: {} rows repeat the account id of an earlier row (e.g. {}); each got its own actions\n",
                self.duplicate_account_ids,
                examples.join(", ")
            ));
        }
        s
    }
}

/// One reject line.
#[derive(Serialize)]
struct Reject<'a> {
    line: u64,
    account: Option<&'a str>,
    field: Option<&'a str>,
    reason: &'a str,
}

/// Settings of one batch run.
pub struct Settings<'a> {
    pub policy: &'a Policy,
    pub mapping: Option<&'a Mapping>,
    pub as_of: NaiveDate,
    pub output: OutputFormat,
    pub max_rejects: Option<u64>,
    pub chunk_rows: usize,
    /// Evaluate every table (as `dry-run`), not only those the actions need.
    pub all_tables: bool,
}

/// What one rayon task produced: output bytes, reject lines, counts.
struct Part {
    out: Vec<u8>,
    rejects: Vec<u8>,
    summary: Summary,
    /// The account ids of the evaluated rows, in order.
    ids: Ids,
}

/// Account ids, one string buffer for a part's rows, each with its hash.
#[derive(Default)]
struct Ids {
    hashes: Vec<u64>,
    ends: Vec<usize>,
    text: String,
}

impl Ids {
    fn push(&mut self, id: &str) {
        self.hashes.push(xxhash_rust::xxh3::xxh3_64(id.as_bytes()));
        self.text.push_str(id);
        self.ends.push(self.text.len());
    }

    fn iter(&self) -> impl Iterator<Item = (u64, &str)> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        self.hashes
            .iter()
            .zip(starts.zip(&self.ends))
            .map(|(&h, (a, &b))| (h, &self.text[a..b]))
    }
}

/// The account ids evaluated so far, as 64-bit hashes (9 to 18 bytes an
/// account): a repeat is counted. Two different ids share a hash with a
/// probability under 10^-6 in a 5-million-row extract.
#[derive(Default)]
struct SeenIds(std::collections::HashSet<u64>);

impl SeenIds {
    fn check(&mut self, ids: &Ids, summary: &mut Summary) {
        for (hash, id) in ids.iter() {
            if !self.0.insert(hash) {
                summary.duplicate_account_ids += 1;
                let examples = &summary.duplicate_account_id_examples;
                if examples.len() < DUPLICATE_EXAMPLES && !examples.iter().any(|e| e == id) {
                    summary.duplicate_account_id_examples.push(id.to_string());
                }
            }
        }
    }
}

/// Runs the batch: rows from `source`, actions to `out`, rejects to
/// `rejects`. `progress` is called with the rows done after each chunk.
pub fn run(
    settings: &Settings,
    mut source: Box<dyn RowSource + '_>,
    out: &mut (dyn Write + Send),
    rejects: &mut (dyn Write + Send),
    pool: &rayon::ThreadPool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, BatchError> {
    let start = std::time::Instant::now();
    if settings.output == OutputFormat::Csv {
        out.write_all(b"account,row,type,rules,fields\n")?;
    }
    let chunk_rows = settings.chunk_rows.max(1);
    let (result, read) = std::thread::scope(|s| {
        // A chunk travels as parts of PART_ROWS rows, one rayon task each, so
        // that each task also frees its own rows.
        let (tx, rx) = sync_channel::<Vec<Vec<Unit>>>(1);
        let reader = s.spawn(move || -> Result<u64, BatchError> {
            let mut read = 0u64;
            let mut more = true;
            while more {
                let mut parts = Vec::with_capacity(chunk_rows.div_ceil(PART_ROWS));
                let mut in_chunk = 0;
                while more && in_chunk < chunk_rows {
                    let mut units = Vec::with_capacity(PART_ROWS.min(chunk_rows));
                    more = source.next_chunk(PART_ROWS.min(chunk_rows - in_chunk), &mut units)?;
                    in_chunk += units.len();
                    if !units.is_empty() {
                        parts.push(units);
                    }
                }
                read += in_chunk as u64;
                if !parts.is_empty() && tx.send(parts).is_err() {
                    return Ok(read);
                }
            }
            source.finish()?;
            Ok(read)
        });
        // Per chunk, its parts' results in input order, each arriving when
        // its task finishes.
        let (wtx, wrx) = sync_channel::<Vec<Receiver<Part>>>(1);
        let max_rejects = settings.max_rejects;
        let writer = s.spawn(move || -> Result<Summary, BatchError> {
            let mut summary = Summary::default();
            let mut seen = SeenIds::default();
            for parts in wrx {
                for part in parts {
                    let part = part.recv().expect("every part task sends its result");
                    seen.check(&part.ids, &mut summary);
                    out.write_all(&part.out)?;
                    rejects.write_all(&part.rejects)?;
                    summary.merge(part.summary);
                    if let Some(max) = max_rejects {
                        if summary.rejected > max {
                            return Err(BatchError::TooManyRejects(max));
                        }
                    }
                }
                progress(summary.evaluated + summary.rejected);
            }
            out.flush()?;
            rejects.flush()?;
            Ok(summary)
        });
        // Each part is its own task, queued as soon as its chunk is read: the
        // workers never wait for a chunk's last part before starting the next
        // chunk. At most three chunks are in flight (being written, queued
        // for the writer, being queued here), so memory stays bounded.
        pool.in_place_scope(|tasks| {
            for chunk in rx.iter() {
                let mut results = Vec::with_capacity(chunk.len());
                for units in chunk {
                    let (ptx, prx) = sync_channel::<Part>(1);
                    results.push(prx);
                    tasks.spawn(move |_| {
                        // The writer stops listening only when the run fails.
                        let _ = ptx.send(process(settings, &units));
                    });
                }
                if wtx.send(results).is_err() {
                    break;
                }
            }
            drop(rx);
            drop(wtx);
        });
        let written = writer.join().expect("writer thread");
        let read = reader.join().expect("reader thread");
        (written, read)
    });
    let mut summary = result?;
    summary.rows_read = read?;
    summary.seconds = start.elapsed().as_secs_f64();
    summary.rows_per_second = summary.rows_read as f64 / summary.seconds.max(1e-9);
    summary.balanced = summary.rows_read == summary.evaluated + summary.rejected;
    summary.all_tables = settings.all_tables;
    Ok(summary)
}

fn process(settings: &Settings, units: &[Unit]) -> Part {
    let mut part = Part {
        out: Vec::with_capacity(units.len() * 256),
        rejects: Vec::new(),
        summary: Summary::default(),
        ids: Ids::default(),
    };
    let schema = settings.policy.plan.schema();
    let mut scratch = Vec::with_capacity(512);
    for unit in units {
        let (id, decoded) = match &unit.raw {
            Raw::Bad { id, reason } => {
                reject(&mut part, unit.line, id.as_deref(), None, reason);
                continue;
            }
            Raw::Json(text) => match json_record(text, unit.line) {
                Err(e) => {
                    reject(
                        &mut part,
                        unit.line,
                        None,
                        None,
                        &format!("not a JSON object: {e}"),
                    );
                    continue;
                }
                Ok(json) => {
                    let id = account_id(schema, &json);
                    (id, decode_account(schema, &json))
                }
            },
            Raw::Csv { record, lists } => {
                let mapping = settings.mapping.expect("CSV input has a mapping");
                let id = record.get(mapping.id_col).map(|s| trim_cell(s).to_string());
                (id, mapping.decode(schema, record, lists))
            }
        };
        let account = match decoded {
            Ok(a) => a,
            Err(errors) => {
                reject_fields(&mut part, unit.line, id.as_deref(), &errors);
                continue;
            }
        };
        let id = id.unwrap_or_default();
        let run = if settings.all_tables {
            crate::policy::run(settings.policy, &account, settings.as_of, false)
        } else {
            crate::policy::run_needed(settings.policy, &account, settings.as_of)
        };
        match run {
            Err(e) => {
                reject(
                    &mut part,
                    unit.line,
                    Some(&id),
                    None,
                    &format!("evaluation failed: {e}"),
                );
            }
            Ok(run) => {
                part.summary.evaluated += 1;
                part.ids.push(&id);
                part.summary.tally(&run.actions);
                for action in &run.actions {
                    write_action(
                        &mut part.out,
                        &mut scratch,
                        settings.output,
                        &id,
                        unit.line,
                        action,
                    );
                }
            }
        }
    }
    part
}

/// One JSON Lines record. A byte-order mark at the start of the file (CSV and
/// YAML readers skip theirs) is not part of the first record.
fn json_record(text: &str, line: u64) -> serde_json::Result<serde_json::Value> {
    let text = match line {
        1 => text.strip_prefix('\u{feff}').unwrap_or(text),
        _ => text,
    };
    serde_json::from_str(text)
}

fn reject(part: &mut Part, line: u64, id: Option<&str>, field: Option<&str>, reason: &str) {
    part.summary.rejected += 1;
    let r = Reject {
        line,
        account: id.filter(|s| !s.is_empty()),
        field,
        reason,
    };
    let _ = serde_json::to_writer(&mut part.rejects, &r);
    part.rejects.push(b'\n');
}

fn reject_fields(part: &mut Part, line: u64, id: Option<&str>, errors: &[FieldError]) {
    let reason = errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let field = errors.first().map(|e| e.field.as_str());
    reject(part, line, id, field, &reason);
}

fn write_action(
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    format: OutputFormat,
    id: &str,
    line: u64,
    action: &Action,
) {
    match format {
        OutputFormat::Jsonl => {
            // The kind alone (not the whole `Action`, whose flattened kind
            // serde would buffer as a map), its members spliced in.
            // sonic-rs writes the same JSON as serde_json, escaping strings
            // with SIMD: string escaping was the largest cost of the output.
            scratch.clear();
            sonic_rs::to_writer(&mut *scratch, &action.kind).expect("action serialises");
            out.extend_from_slice(b"{\"account\":");
            sonic_rs::to_writer(&mut *out, id).expect("id serialises");
            let _ = write!(out, ",\"row\":{line},");
            // `scratch` is `{"type":...}`.
            out.extend_from_slice(&scratch[1..scratch.len() - 1]);
            out.extend_from_slice(b",\"rules\":");
            sonic_rs::to_writer(&mut *out, &action.rules).expect("rules serialise");
            out.extend_from_slice(b"}\n");
        }
        OutputFormat::Csv => {
            let mut fields = serde_json::to_value(&action.kind).expect("action serialises");
            if let Some(map) = fields.as_object_mut() {
                // `shift_remove` keeps the other fields in their order.
                map.shift_remove("type");
            }
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(&mut *out);
            let _ = w.write_record([
                id,
                &line.to_string(),
                action.kind.name(),
                &action.rules.join(";"),
                &fields.to_string(),
            ]);
            let _ = w.flush();
        }
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
                Raw::Csv { .. } => unreachable!("json lines"),
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

    fn first_too_long_record(input: String, limit: usize) -> Option<u64> {
        let (mut reader, start) =
            limited_csv_reader(Box::new(std::io::Cursor::new(input.into_bytes())), limit);
        reader.headers().unwrap();
        let mut rec = ByteRecord::new();
        loop {
            match read_limited_record(&mut reader, &start, limit, &mut rec) {
                Err(line) => return Some(line),
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
