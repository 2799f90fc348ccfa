//! The overnight batch: a large extract (CSV with companion files, or JSON
//! Lines) through the policy, streamed in chunks, evaluated in parallel, with
//! actions written in input order and every unreadable row accounted for as a
//! reject (docs/batch.md).
//! It must not decide anything itself: every action comes from
//! `policy::run_needed` (or `run`).
//!
//! Reading is one thread, evaluation is rayon over a chunk, writing is one
//! thread; at most a few chunks are in flight, so memory does not grow with
//! the input. This file holds what the parts share: the limits, the formats,
//! a row as read ([`Unit`]), [`RowSource`], opening the input and the run's
//! [`Settings`]. The row sources are `csv_source.rs` and `jsonl_source.rs`,
//! the threads `run.rs`, one rayon task's rows `part.rs`, the counts
//! `summary.rs`, `duplicates.rs` and `history_dates.rs` (history dated after
//! `--as-of`: companions of a later night), the cases closed for accounts absent
//! from the extract `open_cases.rs`.

mod csv_source;
mod duplicates;
mod history_dates;
mod jsonl_source;
pub mod mapping;
mod open_cases;
mod part;
mod run;
mod summary;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use chrono::NaiveDate;
use csv::StringRecord;

use crate::lang::compile::Plan;
use crate::policy::Policy;
pub use csv_source::{CompanionFile, CsvSource, LeftOver};
pub use duplicates::RepeatedIds;
pub use jsonl_source::{FieldNotSeen, FieldsNotSeen, JsonlSource};
pub use mapping::{header_errors, HeaderError, Mapping, MappingError};
pub use open_cases::{OpenCases, MAX_CLOSED_SHARE};
pub use part::{decode_unit, write_actions, write_reject, Decoded, Undecodable};
pub use run::{pipeline, run};
pub use summary::{not_read_warnings, Counts, InputFile, OpenCasesCounts, Summary};

/// Rows per chunk read, evaluated and written together. Up to four chunks'
/// rows and output are held at once (about 5 KB a chunk row with the shipped
/// rules), so this, with the id store, sets the peak memory: 4,096 keeps a
/// 5M-row batch under 150 MB (8,192 took 157 MB; docs/batch.md).
pub const CHUNK_ROWS: usize = 4 * 1024;
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
    /// A record already parsed (an accounts file read whole, as `dry-run` reads it).
    Value(serde_json::Value),
    /// A JSON Lines file's last line, without a line end and not whole JSON
    /// (a transfer cut short): rejected, naming the account whose id was read
    /// before the cut (`jsonl_source::id_before_cut`).
    Cut(String),
    /// Could not even be split into cells, or has no account to go with.
    Bad {
        id: Option<String>,
        /// The field at fault, when one is (`account.id` for a blank id).
        field: Option<String>,
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
    /// Companion rows no row of the input took; the batch's run, which
    /// knows the input's account ids, says whether theirs is one
    /// ([`LeftOver::message`]); shown as it is, every cause is named.
    #[error("{}", .0.message(None, 0))]
    LeftOver(LeftOver),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    #[error("more than {0} rows rejected (--max-rejects); stopped")]
    TooManyRejects(u64),
    /// `--open-cases` with an extract of no rows: a failed transfer, not every
    /// account gone, so no case is closed.
    #[error("the extract has no rows")]
    EmptyExtract,
    /// `--open-cases`: the run would close more of the listed cases than
    /// `--max-closed-share` allows (a truncated extract does that), so it closes none.
    #[error("{closing} of the {listed} listed open cases would be closed as absent (more than {allowed}%)")]
    TooManyClosures {
        closing: u64,
        listed: u64,
        /// The extract's rows read.
        rows: u64,
        /// The share allowed, in percent.
        allowed: u8,
    },
}

/// A source of rows, read on its own thread.
pub trait RowSource: Send {
    /// Appends up to `n` rows; `false` once the input is exhausted.
    fn next_chunk(&mut self, n: usize, out: &mut Vec<Unit>) -> Result<bool, BatchError>;
    /// Called after the last row: companion rows left over are an error.
    fn finish(&mut self) -> Result<(), BatchError> {
        Ok(())
    }
    /// A part's rows, evaluated: their buffers may be reused for rows to come.
    fn recycle(&mut self, _units: &mut Vec<Unit>) {}
}

/// Opens a file, decompressing `.gz` on the fly. The input is streamed, so a
/// FIFO (`<(zcat extract.csv.gz)`) is fine; a device or socket is refused (a
/// device such as `/dev/zero` never ends).
pub fn open_input(path: &Path) -> Result<Box<dyn Read + Send>, String> {
    let cannot = |e: std::io::Error| format!("cannot read `{}`: {e}", path.display());
    let file = match check_input(path)? {
        // A FIFO no process writes would be waited on for ever, silently.
        true => crate::input::open_fifo(
            path,
            crate::input::FifoEnd::Read,
            crate::input::FIFO_PEER_WAIT,
        )
        .map_err(cannot)?
        .ok_or_else(|| {
            format!(
                "`{}` is a FIFO (named pipe) that no process writes; start its writer first (nothing read)",
                path.display()
            )
        })?,
        false => File::open(path).map_err(cannot)?,
    };
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(
            BufReader::with_capacity(1 << 20, file),
        )))
    } else {
        Ok(Box::new(file))
    }
}

/// Refuses an input that is not a file or a FIFO (a directory, a device such
/// as `/dev/zero`, a socket), or that is missing, naming what it is; whether
/// it is a FIFO.
pub fn check_input(path: &Path) -> Result<bool, String> {
    let ft = std::fs::metadata(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?
        .file_type();
    if !(ft.is_file() || std::os::unix::fs::FileTypeExt::is_fifo(&ft)) {
        return Err(format!(
            "`{}` is {}, not a file or a FIFO",
            path.display(),
            crate::input::kind_of(ft)
        ));
    }
    Ok(std::os::unix::fs::FileTypeExt::is_fifo(&ft))
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

/// `16 MiB`, or the bytes when not whole MiB.
fn bytes_text(n: usize) -> String {
    if n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// What a batch run does with each decoded row.
#[derive(Clone, Copy)]
pub enum Evaluate<'a> {
    /// The policy's actions (only the tables they read, or every table with `all_tables`).
    Policy(&'a Policy),
    /// Every table's decisions, one JSON object per row (`--decisions`, or
    /// rules without a policy): the tables as a plain decision service.
    Decisions(&'a Plan),
}

impl Evaluate<'_> {
    pub fn plan(&self) -> &Plan {
        match self {
            Evaluate::Policy(policy) => &policy.plan,
            Evaluate::Decisions(plan) => plan,
        }
    }
}

/// Settings of one batch run.
pub struct Settings<'a> {
    pub evaluate: Evaluate<'a>,
    pub mapping: Option<&'a Mapping>,
    pub as_of: NaiveDate,
    pub output: OutputFormat,
    pub max_rejects: Option<u64>,
    pub chunk_rows: usize,
    /// Evaluate every table (as `dry-run`), not only those the actions need.
    pub all_tables: bool,
    /// `--open-cases`: close the listed cases whose account no row has.
    pub open_cases: Option<&'a OpenCases>,
}
