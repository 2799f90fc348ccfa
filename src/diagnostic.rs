//! Diagnostics: what is wrong, where (file, line, column), and how to fix it.
//! Every stage reports through [`Diagnostic`]; only the CLI renders them.

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

    /// Human rendering: a `file:line:col` header, the source line with a caret
    /// under the span, the message and the hint.
    pub fn render(&self) -> String {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        let report = miette::MietteDiagnostic::new(self.message.clone())
            .with_severity(match self.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Info => miette::Severity::Advice,
            })
            .with_label(miette::LabeledSpan::new_primary_with_span(
                self.label.clone(),
                miette::SourceSpan::new(self.span.start.into(), self.span.len().max(1)),
            ));
        let report = match &self.help {
            Some(help) => report.with_help(help.clone()),
            None => report,
        };
        let report = miette::Report::new(report).with_source_code(miette::NamedSource::new(
            self.file.name.clone(),
            self.file.text.clone(),
        ));
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {severity}[{}]: {}",
            self.location(),
            self.code,
            self.message
        );
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                .with_context_lines(1)
                .with_width(100);
        if handler.render_report(&mut out, report.as_ref()).is_err() {
            // Rendering only fails on a broken span; the header line already says where.
            let _ = writeln!(out, "  ({})", self.message);
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

/// Sorts diagnostics by file, position, then code, for stable output.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.file.name.as_str(), a.span.start, a.code).cmp(&(
            b.file.name.as_str(),
            b.span.start,
            b.code,
        ))
    });
}

/// `did you mean` for a misspelt name.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}
