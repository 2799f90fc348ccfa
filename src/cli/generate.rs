//! `arrears generate --accounts N --seed S [--corrupt-rate R] [--format csv|jsonl] OUT`
//! It parses arguments and writes files; what is generated is
//! `data::generate`'s.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::output::{
    not_a_regular_file, refuse_inside_rules, refuse_same_files, remove_partials_on_signal, std_fd,
    Named, Output,
};
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

/// One file being written: the staged (or streamed) output and its writer,
/// gzip when its name ends in `.gz`.
struct Sink {
    output: Output,
    writer: Writer,
}

enum Writer {
    Plain(BufWriter<File>),
    Gz(flate2::write::GzEncoder<BufWriter<File>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.writer {
            Writer::Plain(w) => w.write(buf),
            Writer::Gz(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.writer {
            Writer::Plain(w) => w.flush(),
            Writer::Gz(w) => w.flush(),
        }
    }
}

impl Sink {
    fn create(path: &Path) -> Result<Sink, String> {
        // Staged and renamed into place at the end, as the batch's outputs are;
        // a stream (`-`, `/dev/stdout`) or a FIFO is written as it goes.
        let mut output = Output::open(path)?;
        let file = output
            .file()
            .try_clone()
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        let file = BufWriter::with_capacity(1 << 20, file);
        let writer = if path.extension().is_some_and(|e| e == "gz") {
            Writer::Gz(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::fast(),
            ))
        } else {
            Writer::Plain(file)
        };
        Ok(Sink { output, writer })
    }

    /// Writes what is buffered (a gzip stream's trailer too); the output is
    /// then whole, to be put in place.
    fn finish(self) -> std::io::Result<Output> {
        match self.writer {
            Writer::Plain(mut w) => w.flush()?,
            Writer::Gz(w) => w.finish()?.flush()?,
        }
        Ok(self.output)
    }
}

pub fn run(args: &Args, _out: &mut Out) -> Exit {
    if let Some(what) = companions_cannot_go_beside(args) {
        return super::usage_error(format!(
            "`{}` is {what}: a CSV extract is eight files (OUT and its companions `<stem>.sas.csv`, ... beside it), which one stream cannot carry; give a file path, or --format jsonl to write one stream",
            args.out.display()
        ));
    }
    let paths = written_paths(args);
    if let Err(message) = refuse_unsafe_outputs(args, &paths) {
        return match message {
            Refusal::Usage(message) => super::usage_error(message),
            Refusal::BadInput(message) => {
                error_line(message);
                Exit::BadInput
            }
        };
    }
    let book = match crate::policy::Rulebook::load(&args.rules) {
        Ok(book) => book,
        Err(e) => {
            error_line(format!("--rules: {e}"));
            return Exit::BadInput;
        }
    };
    let history = match case_history(args, &book) {
        Ok(history) => history,
        Err((exit, message)) => {
            error_line(message);
            return exit;
        }
    };
    if let Err(e) = remove_partials_on_signal() {
        error_line(e);
        return Exit::BadInput;
    }
    match generate(args, &paths, history) {
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
        Err(Failed::ClosedPipe) => Exit::Ok,
        Err(Failed::Message(e)) => {
            error_line(e);
            Exit::BadInput
        }
    }
}

/// Why [`generate`] stopped: OUT's reader went away (`| head`, quiet, as for
/// every command), or an error to say.
enum Failed {
    ClosedPipe,
    Message(String),
}

impl From<String> for Failed {
    fn from(message: String) -> Self {
        Failed::Message(message)
    }
}

impl From<&str> for Failed {
    fn from(message: &str) -> Self {
        Failed::Message(message.to_string())
    }
}

/// Every file the run writes: OUT, then for CSV its companions beside it.
fn written_paths(args: &Args) -> Vec<PathBuf> {
    let mut paths = vec![args.out.clone()];
    if args.format == GenFormat::Csv {
        let dir = args.out.parent().unwrap_or(Path::new(""));
        let stem = crate::data::batch::input_stem(&args.out);
        paths.extend(
            COMPANIONS
                .iter()
                .map(|suffix| dir.join(format!("{stem}.{suffix}.csv"))),
        );
    }
    paths
}

/// Why an output is refused, with the exit code the other commands give it.
enum Refusal {
    /// Exit 64, as `batch` and `diff` refuse an output over an input or inside a rules directory.
    Usage(String),
    /// Exit 2, as `schema` and `man` refuse a symbolic link or a special file they would replace.
    BadInput(String),
}

/// Refuses, before anything is written, a file the run must not write: one
/// named for another kind of file (`accounts.yaml` would become CSV), one
/// inside the rules directory, one output twice (through links), a symbolic
/// link (its target, maybe a sample or a rule file, would be replaced), or a
/// companion that is not a regular file. OUT may be a FIFO: it is a stream.
fn refuse_unsafe_outputs(args: &Args, paths: &[PathBuf]) -> Result<(), Refusal> {
    let named: Vec<Named> = paths
        .iter()
        .enumerate()
        .map(|(n, path)| Named {
            what: if n == 0 {
                "the output"
            } else {
                "the companion file"
            }
            .into(),
            path,
        })
        .collect();
    refuse_inside_rules(&[&args.rules], &named).map_err(Refusal::Usage)?;
    if let Some(message) = named_for_another_format(args) {
        return Err(Refusal::Usage(message));
    }
    // Through symlinks, a companion could be OUT itself or another companion.
    refuse_same_files(&[], &named).map_err(Refusal::Usage)?;
    for (n, path) in paths.iter().enumerate() {
        if n == 0 && std_fd(path).is_some() {
            continue;
        }
        let kind = match not_a_regular_file(path) {
            Some("a FIFO (named pipe)") if n == 0 => continue,
            Some(kind) => kind,
            None => continue,
        };
        let what = if n == 0 {
            "the output"
        } else {
            "the companion file"
        };
        let why = if kind == "a symbolic link" {
            "`generate` does not write through one (its target may be a sample or a rule file)"
        } else {
            "`generate` replaces only regular files"
        };
        return Err(Refusal::BadInput(format!(
            "{what} `{}` is {kind}; {why}: remove it or name another file (nothing written)",
            path.display()
        )));
    }
    Ok(())
}

/// The extension of every file kind the commands read, and what it is: an
/// extract named for one of them that it is not would be read as that.
fn named_for_another_format(args: &Args) -> Option<String> {
    let name = args.out.file_name()?.to_str()?.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let extension = name.rsplit_once('.')?.1;
    let (writes, fits): (&str, &[&str]) = match args.format {
        GenFormat::Csv => ("CSV", &["csv"]),
        GenFormat::Jsonl => ("JSON Lines", &["jsonl", "ndjson"]),
    };
    let named = match extension {
        "csv" => "a CSV extract",
        "jsonl" | "ndjson" => "a JSON Lines extract",
        "yaml" | "yml" | "toml" | "json" => "an accounts file or a rule file",
        _ => return None,
    };
    (!fits.contains(&extension)).then(|| {
        format!(
            "`{}` is named like {named} (`.{extension}`), but generate writes {writes} (--format {}); name it `.{}`",
            args.out.display(),
            if args.format == GenFormat::Csv { "csv" } else { "jsonl" },
            fits[0]
        )
    })
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

/// The policy in force on `--as-of` in `--rules` (`book`), which gives the
/// generated cases their treatment, templates and calendars.
fn case_history<'b>(
    args: &Args,
    book: &'b crate::policy::Rulebook,
) -> Result<CaseHistory<'b>, (Exit, String)> {
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

/// Writes the extract into `paths` (OUT, then its companions); returns each
/// file written with its data rows.
fn generate(
    args: &Args,
    paths: &[PathBuf],
    history: CaseHistory<'_>,
) -> Result<Vec<(PathBuf, u64)>, Failed> {
    let mut generator = Generator::with_history(args.seed, args.as_of, history);
    let failed = |e: std::io::Error| match super::is_closed_pipe(&e) {
        true => Failed::ClosedPipe,
        false => Failed::Message(format!("cannot write `{}`: {e}", args.out.display())),
    };
    match args.format {
        GenFormat::Jsonl => {
            let mut out = Sink::create(&args.out)?;
            for _ in 0..args.accounts {
                let account = generator.account();
                let corrupt = generator.corruption(args.corrupt_rate);
                out.write_all(json_line(&account, corrupt).as_bytes())
                    .and_then(|_| out.write_all(b"\n"))
                    .map_err(failed)?;
            }
            out.finish().map_err(failed)?.commit()?;
            Ok(vec![(args.out.clone(), args.accounts)])
        }
        GenFormat::Csv => {
            let sinks = paths
                .iter()
                .map(|path| Sink::create(path))
                .collect::<Result<Vec<_>, _>>()?;
            let mut sinks = sinks.into_iter();
            let main = sinks.next().ok_or("no output")?;
            let companions: [Sink; COMPANIONS.len()] = sinks
                .collect::<Vec<_>>()
                .try_into()
                .map_err(|_| "companions")?;
            let mut w = CsvWriters::new(main, companions).map_err(|e| failed(e.into()))?;
            for _ in 0..args.accounts {
                let account = generator.account();
                let corrupt = generator.corruption(args.corrupt_rate);
                w.write(&account, corrupt).map_err(|e| failed(e.into()))?;
            }
            let rows = w.rows;
            let (main, companions) = w.finish().map_err(failed)?;
            // Every file is whole before the first is put in place.
            let outputs = std::iter::once(main)
                .chain(companions)
                .map(Sink::finish)
                .collect::<Result<Vec<_>, _>>()
                .map_err(failed)?;
            for output in outputs {
                output.commit()?;
            }
            Ok(paths.iter().cloned().zip(rows).collect())
        }
    }
}
