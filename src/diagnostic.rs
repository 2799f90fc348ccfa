//! Diagnostics: what is wrong, where (file, line, column), and how to fix it.
//! Every stage reports through [`Diagnostic`]; only the CLI renders them.
//! It must not know any stage's rules: stages say what is wrong, this says how
//! it is shown.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;

use crate::source::{SourceFile, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something lint could not check, said so rather than left silent.
    Info,
    Warning,
    Error,
}

/// A problem found in a rule file, with a stable code.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub file: Arc<SourceFile>,
    pub span: Span,
    /// Text shown under the caret.
    pub label: Option<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(
        code: &'static str,
        file: &Arc<SourceFile>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            file: file.clone(),
            span,
            label: None,
            help: None,
        }
    }

    pub fn warning(
        code: &'static str,
        file: &Arc<SourceFile>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, file, span, message)
        }
    }

    pub fn info(
        code: &'static str,
        file: &Arc<SourceFile>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Info,
            ..Diagnostic::error(code, file, span, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help.or(self.help);
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// 1-based line and column of the start of the span.
    pub fn line_col(&self) -> (usize, usize) {
        self.file.line_col(self.span.start)
    }

    /// `file:line:col`
    pub fn location(&self) -> String {
        let (line, col) = self.line_col();
        format!("{}:{}:{}", self.file.name, line, col)
    }

    /// The message and, after a `;`, the hint: what a one-line error says.
    pub fn message_with_help(&self) -> String {
        match &self.help {
            Some(help) => format!("{}; {help}", self.message),
            None => self.message.clone(),
        }
    }

    /// `file:line:col: message; hint`, for commands that report a bad input on one line.
    pub fn one_line(&self) -> String {
        format!("{}: {}", self.location(), self.message_with_help())
    }

    /// Human rendering: a `file:line:col` header, the source line with a caret
    /// under the span, the message and the hint.
    /// An info is its header line alone: it says what lint did not do, and clean
    /// rules should not scroll (`arrears lint --explain CODE` says more).
    pub fn render(&self) -> String {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        let header = format!(
            "{}: {severity}[{}]: {}",
            printable(&self.location()),
            self.code,
            printable(&self.message)
        );
        if self.severity == Severity::Info {
            return header;
        }
        // The source, message and hints may hold control characters from the
        // file: they are shown escaped, and the span moved to match.
        let source = escaped(&self.file.text, Keep::Layout);
        let start = escaped_offset(&self.file.text, self.span.start);
        let end = escaped_offset(&self.file.text, self.span.end);
        let report = miette::MietteDiagnostic::new(printable(&self.message))
            .with_severity(match self.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Info => miette::Severity::Advice,
            })
            .with_label(miette::LabeledSpan::new_primary_with_span(
                self.label.as_deref().map(|l| printable(l).into_owned()),
                miette::SourceSpan::new(start.into(), end.saturating_sub(start).max(1)),
            ));
        let report = match &self.help {
            Some(help) => report.with_help(printable(help)),
            None => report,
        };
        let report = miette::Report::new(report).with_source_code(miette::NamedSource::new(
            printable(&self.file.name),
            source.into_owned(),
        ));
        let mut out = header;
        out.push('\n');
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                .with_context_lines(1)
                .with_width(100);
        if handler.render_report(&mut out, report.as_ref()).is_err() {
            // Rendering only fails on a broken span; the header line already says where.
            let _ = writeln!(out, "  ({})", printable(&self.message));
        }
        out
    }

    pub fn to_json(&self) -> DiagnosticJson {
        let (line, column) = self.line_col();
        let (end_line, end_column) = self.file.line_col(self.span.end);
        DiagnosticJson {
            code: self.code,
            severity: self.severity,
            message: self.message.clone(),
            help: self.help.clone(),
            file: self.file.name.clone(),
            line,
            column,
            end_line,
            end_column,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct DiagnosticJson {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// Sorts diagnostics root causes first, then errors before warnings before
/// infos (as rustc and ruff do: the error to fix is never under a warning),
/// then by file, position and code, for stable output: a file that could not
/// be read, then the schema, then everything else (which may follow from
/// them). `lint` prints in this order, text and JSON alike, and `dry-run`,
/// `test` and `batch` name the first error, so all name the same one.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
}

/// Several problems of a bad input as the one `error:` line exit 2 promises:
/// the first (in [`sort`] order) with its hint, then how many more and the
/// lines of the first few.
pub fn one_line_of(problems: &[Diagnostic]) -> Option<String> {
    let mut sorted: Vec<&Diagnostic> = problems.iter().collect();
    sorted.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    let (first, rest) = sorted.split_first()?;
    let mut line = first.one_line();
    if !rest.is_empty() {
        const SHOWN: usize = 5;
        // Lines of the first one's file, else `file:line`.
        let one_file = rest.iter().all(|d| d.file.name == first.file.name);
        let at: Vec<String> = rest
            .iter()
            .take(SHOWN)
            .map(|d| match one_file {
                true => d.line_col().0.to_string(),
                false => format!("{}:{}", d.file.name, d.line_col().0),
            })
            .collect();
        let more = if rest.len() > SHOWN { ", ..." } else { "" };
        let lines = match (one_file, rest.len()) {
            (false, _) => "",
            (true, 1) => "line ",
            (true, _) => "lines ",
        };
        let _ = write!(
            line,
            " (and {} more, at {lines}{}{more})",
            rest.len(),
            at.join(", ")
        );
    }
    Some(line)
}

/// The error [`sort`] puts first: the one every command names.
pub fn first_error(diagnostics: &[Diagnostic]) -> Option<&Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .min_by(|a, b| sort_key(a).cmp(&sort_key(b)))
}

/// The order [`sort`] puts diagnostics in.
pub fn sort_key(d: &Diagnostic) -> (u8, std::cmp::Reverse<Severity>, &str, usize, &'static str) {
    (
        stage(d.code),
        std::cmp::Reverse(d.severity),
        d.file.name.as_str(),
        d.span.start,
        d.code,
    )
}

/// 0: a rule file could not be read; 1: the schema is wrong; 2: the rest.
fn stage(code: &str) -> u8 {
    match code {
        "yaml" | "toml" | "unknown-document" | "empty-file" | "not-utf8" | "file-too-large"
        | "too-many-bytes" => 0,
        "schema" | "duplicate-schema" | "no-schema" => 1,
        _ => 2,
    }
}

/// `did you mean` for a misspelt name (see [`nearest`]).
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    nearest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate a misspelt name was most probably meant to be: one that
/// differs only in case (`gb` → `GB`), or one similar enough (Jaro-Winkler
/// above 0.8, or one edit away: `mx` → `max`).
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    if let Some(c) = candidates
        .iter()
        .find(|c| **c != name && c.eq_ignore_ascii_case(name))
    {
        return Some(c);
    }
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, c)| {
            *score > 0.8 || (name.len() > 1 && strsim::damerau_levenshtein(name, c) == 1)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Text read from an input (an account id, a field value, a file name, a rule
/// cell) made safe to print for people: every control character (C0, DEL,
/// C1) is written escaped (`\u{1b}`, `\u{7}`, `\u{0}`, `\t`, `\n`), so
/// nothing read can move the cursor, ring the bell, change the terminal's
/// settings or start a line of its own. JSON output needs none of this: serde
/// escapes control characters itself.
pub fn printable(text: &str) -> Cow<'_, str> {
    escaped(text, Keep::Nothing)
}

/// The characters of a value read from input that a message echoes: enough
/// to recognise it, short enough that one bad cell gives a readable line.
pub const ECHO_CHARS: usize = 60;

/// A value read from input (a cell, a field, a zone name) as a message echoes
/// it: whole when it has at most [`ECHO_CHARS`] characters, else its first
/// ones, cut at a character boundary, and a marker saying how long it was
/// (`America/yyyy… (1000000 characters in all)`). Every message that echoes
/// a cell goes through it.
pub fn echoed(text: &str) -> Cow<'_, str> {
    echoed_within(text, ECHO_CHARS)
}

/// [`echoed`] with a limit of its own, `chars`: for a value whose every
/// character matters and that is still bounded (an event id with figures).
pub fn echoed_within(text: &str, chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(chars) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!(
            "{}… ({} characters in all)",
            &text[..cut],
            text.chars().count()
        )),
    }
}

/// Which control characters [`escaped`] leaves as they are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    Nothing,
    /// Line breaks (`\n`, `\r\n`) and tabs: they lay out a source file.
    Layout,
}

fn must_escape(text: &str, at: usize, c: char, keep: Keep) -> bool {
    let layout =
        c == '\n' || c == '\t' || (c == '\r' && text[at + c.len_utf8()..].starts_with('\n'));
    c.is_control() && !(keep == Keep::Layout && layout)
}

/// `\t`, `\n`, `\r` as in a string literal; any other as `\u{..}`, the form
/// the YAML and cell parsers' messages use.
fn escape(c: char) -> impl Iterator<Item = char> {
    let short = matches!(c, '\t' | '\n' | '\r');
    let (debug, unicode) = if short {
        (Some(c.escape_debug()), None)
    } else {
        (None, Some(c.escape_unicode()))
    };
    debug
        .into_iter()
        .flatten()
        .chain(unicode.into_iter().flatten())
}

fn escaped(text: &str, keep: Keep) -> Cow<'_, str> {
    if !text
        .char_indices()
        .any(|(at, c)| must_escape(text, at, c, keep))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (at, c) in text.char_indices() {
        if must_escape(text, at, c, keep) {
            out.extend(escape(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Where byte `offset` of `text` lands in `escaped(text, Keep::Layout)`.
fn escaped_offset(text: &str, offset: usize) -> usize {
    offset
        + text
            .char_indices()
            .take_while(|(at, _)| *at < offset)
            .filter(|(at, c)| must_escape(text, *at, *c, Keep::Layout))
            .map(|(_, c)| escape(c).map(char::len_utf8).sum::<usize>() - c.len_utf8())
            .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_keeps_a_short_value_and_cuts_a_long_one_at_a_character() {
        assert_eq!(echoed("America/Chicago"), "America/Chicago");
        let exact = "é".repeat(ECHO_CHARS);
        assert_eq!(echoed(&exact), exact);
        let long = format!("{}{}", "é".repeat(ECHO_CHARS), "x".repeat(1_000_000));
        let shown = echoed(&long);
        assert_eq!(
            shown,
            format!("{}… (1000060 characters in all)", "é".repeat(ECHO_CHARS))
        );
    }

    #[test]
    fn printable_escapes_every_control_character_and_nothing_else() {
        let cases = [
            ("plain text, é 漢 🦀 \\ \"", "plain text, é 漢 🦀 \\ \""),
            ("esc\u{1b}[2J bel\u{7}", "esc\\u{1b}[2J bel\\u{7}"),
            (
                "nul\0 del\u{7f} csi\u{9b} nel\u{85}",
                "nul\\u{0} del\\u{7f} csi\\u{9b} nel\\u{85}",
            ),
            ("tab\t cr\r lf\n", "tab\\t cr\\r lf\\n"),
        ];
        for (text, shown) in cases {
            assert_eq!(printable(text), shown, "{text:?}");
        }
        assert!(matches!(printable("no controls"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_source_keeps_its_layout_and_offsets_follow_the_escapes() {
        let text = "a: 1\r\nb: \"x\u{1b}y\"\tz\nc: \u{7}\r";
        let source = escaped(text, Keep::Layout);
        assert_eq!(source, "a: 1\r\nb: \"x\\u{1b}y\"\tz\nc: \\u{7}\\r");
        // Each character of the original lands on the same character.
        for (at, c) in text.char_indices() {
            let moved = escaped_offset(text, at);
            let expected = if must_escape(text, at, c, Keep::Layout) {
                escape(c).next()
            } else {
                Some(c)
            };
            assert_eq!(source[moved..].chars().next(), expected, "at {at}");
        }
        assert_eq!(escaped_offset(text, text.len()), source.len());
    }
}
