//! `arrears generate --accounts N --seed S [--corrupt-rate R] [--format csv|jsonl] OUT`
//! It parses arguments and writes files; what is generated is
//! `data::generate`'s.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::output::{open_stream, refuse_same_files, std_fd, Named};
use super::{error_line, number_in, parse_date, Exit, Out};
use crate::data::generate::{json_line, CaseHistory, CsvWriters, Generator, COMPANIONS};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GenFormat {
    #[default]
    Csv,
    Jsonl,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// How many accounts, 0 to 1,000,000,000.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=MAX_ACCOUNTS))]
    accounts: u64,
    /// The random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of rows (0..1) deliberately malformed: bad money, unknown enum value,
    /// missing field, wrong column count (truncated JSON), bad date.
    #[arg(long, default_value_t = 0.0, value_parser = number_in(0.0..=1.0))]
    corrupt_rate: f64,
    /// CSV (with companion files `<stem>.sas.csv`, ... beside OUT) or JSON Lines.
    #[arg(long, value_enum, default_value_t)]
    format: GenFormat,
    /// The date the extract is taken (dates are relative to it).
    #[arg(long, value_parser = parse_date, default_value = "2026-11-22")]
    as_of: NaiveDate,
    /// The rules the extract is made for: the open cases' history (events,
    /// contacts) follows their templates and calendar.
    #[arg(long, default_value = "rules")]
    rules: PathBuf,
    /// The output file; `.gz` compresses the main file. With --format jsonl, `-`:
    /// standard output (CSV writes companion files beside OUT, so it needs a file path).
    out: PathBuf,
}

/// A billion accounts is some 250 GB of CSV: more is a typo, not a test extract.
const MAX_ACCOUNTS: u64 = 1_000_000_000;

type Sink = Box<dyn Write>;

fn create(path: &Path) -> std::io::Result<Sink> {
    // `-`, `/dev/stdout`, `/dev/fd/N`: the stream itself, not a file opened anew.
    let file = match open_stream(path) {
        Some(stream) => stream?,
        None => File::create(path)?,
    };
    let file = BufWriter::with_capacity(1 << 20, file);
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        )))
    } else {
        Ok(Box::new(file))
    }
}

pub fn run(args: &Args, _out: &mut Out) -> Exit {
    if let Some(what) = companions_cannot_go_beside(args) {
        return super::usage_error(format!(
            "`{}` is {what}: a CSV extract is eight files (OUT and its companions `<stem>.sas.csv`, ... beside it), which one stream cannot carry; give a file path, or --format jsonl to write one stream",
            args.out.display()
        ));
    }
    let history = match case_history(args) {
        Ok(history) => history,
        Err((exit, message)) => {
            error_line(message);
            return exit;
        }
    };
    match generate(args, history) {
        Ok(written) => {
            // On stderr, like the batch's summary: OUT may be standard output.
            for (path, rows) in written {
                eprintln!(
                    "wrote {}: {} {}",
                    path.display(),
                    indicatif::HumanCount(rows),
                    if rows == 1 { "row" } else { "rows" }
                );
            }
            Exit::Ok
        }
        Err(e) => {
            error_line(format!("cannot write `{}`: {e}", args.out.display()));
            Exit::BadInput
        }
    }
}

/// Why CSV's companion files cannot be written beside OUT: it is a stream of
/// this process (`-`, `/dev/stdout`, `/dev/fd/N`), a device or a socket, whose
/// directory (`/dev`) is no place for files. A FIFO's directory is the user's.
fn companions_cannot_go_beside(args: &Args) -> Option<&'static str> {
    if args.format != GenFormat::Csv {
        return None;
    }
    if std_fd(&args.out).is_some() {
        return Some("a stream (standard output or a descriptor)");
    }
    let meta = std::fs::metadata(&args.out).ok()?;
    let kind = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return None;
        }
    }
    (!kind.is_file() && !kind.is_dir()).then(|| crate::input::kind_of(kind))
}

/// The templates and calendar of the policy in force on `--as-of` in `--rules`.
fn case_history(args: &Args) -> Result<CaseHistory, (Exit, String)> {
    let book = crate::policy::Rulebook::load(&args.rules)
        .map_err(|e| (Exit::BadInput, format!("--rules: {e}")))?;
    let refused = |why: String| {
        (
            Exit::InvalidRules,
            format!(
                "`{}` {why}: the generated cases' history follows the rules' templates (arrears lint {})",
                args.rules.display(),
                args.rules.display()
            ),
        )
    };
    let Some(policy) = &book.on(args.as_of).policy else {
        return Err(refused("has no policy that builds".into()));
    };
    let history = CaseHistory::of(policy);
    match history.missing_templates().as_slice() {
        [] => Ok(history),
        missing => Err(refused(format!(
            "has no template {}",
            missing
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Writes the extract; returns each file written with its data rows.
fn generate(args: &Args, history: CaseHistory) -> std::io::Result<Vec<(PathBuf, u64)>> {
    let mut generator = Generator::with_history(args.seed, args.as_of, history);
    match args.format {
        GenFormat::Jsonl => {
            let mut out = create(&args.out)?;
            for _ in 0..args.accounts {
                let account = generator.account();
                let corrupt = generator.corruption(args.corrupt_rate);
                out.write_all(json_line(&account, corrupt).as_bytes())?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
            Ok(vec![(args.out.clone(), args.accounts)])
        }
        GenFormat::Csv => {
            let dir = args.out.parent().unwrap_or(Path::new(""));
            let stem = crate::data::batch::input_stem(&args.out);
            let paths: Vec<PathBuf> = COMPANIONS
                .iter()
                .map(|suffix| dir.join(format!("{stem}.{suffix}.csv")))
                .collect();
            // Through symlinks, a companion could be OUT itself or another companion.
            let named: Vec<Named> = std::iter::once(&args.out)
                .chain(&paths)
                .map(|path| Named {
                    what: "the output".into(),
                    path,
                })
                .collect();
            refuse_same_files(&[], &named).map_err(std::io::Error::other)?;
            let mut companions = Vec::new();
            for path in &paths {
                companions.push(create(path)?);
            }
            let companions: [Sink; COMPANIONS.len()] = companions
                .try_into()
                .map_err(|_| std::io::Error::other("companions"))?;
            let mut w = CsvWriters::new(create(&args.out)?, companions)?;
            for _ in 0..args.accounts {
                let account = generator.account();
                let corrupt = generator.corruption(args.corrupt_rate);
                w.write(&account, corrupt)?;
            }
            let rows = w.rows;
            let (mut main, companions) = w.finish()?;
            main.flush()?;
            for mut c in companions {
                c.flush()?;
            }
            Ok(std::iter::once(args.out.clone())
                .chain(paths)
                .zip(rows)
                .collect())
        }
    }
}
