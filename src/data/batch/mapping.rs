//! Column mappings: how a flat extract (a CSV file and its companion files)
//! maps onto the account schema, and the typed decoder that turns one row of
//! text cells straight into a `Value::Record` (no JSON on the way).
//! It must not read files or run the policy: the batch feeds it rows.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use csv::StringRecord;

use crate::data::schema::{Schema, ACCOUNT};
use crate::data::snapshot::{
    check_combinations, unknown_variant, whole_number_error, FieldError, FieldPath,
};
use crate::decimal::{read_decimal, NumberError};
use crate::diagnostic::{did_you_mean, nearest};
use crate::model::doc::MappingDoc;
use crate::source::Span;
use crate::types::{RecordId, Type, Value};

/// Where one field of a record comes from.
#[derive(Debug, Clone)]
enum Source {
    /// A cell of the row, by column index.
    Column {
        col: usize,
        ty: Type,
        optional: bool,
        /// A `time` field: the text must be `HH:MM`.
        time_of_day: bool,
    },
    /// A nested record; an optional one is null when all its cells are empty.
    Record {
        fields: Vec<(String, Source)>,
        optional: bool,
    },
    /// A list read from companion list `n`.
    List(usize),
    /// Not mapped: null (optional fields) or the empty list.
    Null,
    EmptyList,
}

/// A list read from a companion file.
#[derive(Debug, Clone)]
pub struct ListPlan {
    /// `service_agreements`, `promises.payments`.
    pub path: String,
    /// The file as written in the mapping (`{stem}.sas.csv`).
    pub file: String,
    /// The file read, for messages (the mapping's `file` until [`Mapping::read_from`]).
    shown: String,
    pub key: String,
    pub parent: Option<String>,
    /// Column names the item plan refers to, by the index used in its sources.
    pub columns: Vec<String>,
    /// Where each field of an item comes from.
    fields: Vec<(String, Source)>,
    /// Index (into `columns`) of the key and parent columns.
    pub key_col: usize,
    pub parent_col: Option<usize>,
    /// For a list with nested lists: the item field (column index) holding the item's id.
    id_col: Option<usize>,
    /// Columns in the companion file's header (after binding).
    pub width: usize,
    /// Which of its columns may be absent from the file's header.
    absence: Absence,
    /// A list of scalars (`case.removed_sas`): `fields` is its one column, mapped to `.`.
    scalar: bool,
    /// Not read (`batch --no-companion`): empty for every account.
    pub not_read: bool,
    /// The schema's field is optional (`contacts?`): a JSON account may leave it out.
    optional: bool,
}

/// What a list path holds: records (with the enclosing list's path for a
/// nested list), or scalars of one type.
enum ListItem {
    Record(RecordId, Option<String>),
    Scalar(Type),
}

/// The path a list's items are mapped to when they are scalars: the item itself.
pub const SCALAR_ITEM: &str = ".";

/// A mapping checked against the schema. Column indices refer to
/// [`Mapping::columns`] until [`Mapping::bind`] resolves them against a header.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub name: String,
    /// The main file's mapped column names.
    pub columns: Vec<String>,
    fields: Vec<(String, Source)>,
    pub id_col: usize,
    pub lists: Vec<ListPlan>,
    /// Which of the main file's columns may be absent from its header.
    absence: Absence,
    /// The main file, for messages (`the input` until [`Mapping::input_is`]).
    input_shown: String,
}

/// Which mapped columns of one file may be absent from its header, and why.
#[derive(Debug, Clone, Default)]
struct Absence {
    /// Mapped as `field?`: an older file may lack them (the field is null).
    may_be_absent: HashSet<String>,
    /// Mapped to an optional field: `batch --no-column` may say the file lacks them.
    optional: HashSet<String>,
    /// Named by `--no-column`: the file lacks them, and their field is null for every account.
    not_read: HashSet<String>,
}

impl Absence {
    fn new(may_be_absent: HashSet<String>, fields: &[(String, Source)], names: &[String]) -> Self {
        let mut optional = HashSet::new();
        optional_columns(fields, names, &mut optional);
        Absence {
            may_be_absent,
            optional,
            not_read: HashSet::new(),
        }
    }
}

/// The columns mapped to optional fields (a `?` one's too).
fn optional_columns(fields: &[(String, Source)], names: &[String], out: &mut HashSet<String>) {
    for (_, source) in fields {
        match source {
            Source::Column {
                col,
                optional: true,
                ..
            } => {
                out.insert(names[*col].clone());
            }
            Source::Record { fields, .. } => optional_columns(fields, names, out),
            _ => {}
        }
    }
}

/// How a field of [`Mapping::unmapped_fields`] may be left empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmapped {
    /// No column maps it: null.
    NoColumn,
    /// A list no companion file maps: empty.
    NoFile,
    /// Its column is mapped `field?`: an extract without the column reads as null.
    MayBeAbsent(String),
}

/// A mapping problem, found before any row is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mapping `{mapping}`: {message}")]
pub struct MappingError {
    pub mapping: String,
    pub message: String,
    /// The column entry at fault, when one is (else the problem is the mapping's).
    pub span: Option<Span>,
    /// What to do about it, when something more than the docs can be said (a did-you-mean).
    pub help: Option<String>,
}

/// A [`MappingError`] before it is given the mapping's name.
struct Problem {
    message: String,
    span: Option<Span>,
    help: Option<String>,
}

impl From<String> for Problem {
    fn from(message: String) -> Self {
        Problem {
            message,
            span: None,
            help: None,
        }
    }
}

struct Builder<'a> {
    schema: &'a Schema,
    name: String,
    errors: Vec<Problem>,
    /// The lists (by index) whose schema field is optional.
    optional_lists: HashSet<usize>,
}

/// Columns of one file: field path (relative to the file's row) → column index.
struct Cols {
    by_path: HashMap<String, usize>,
    names: Vec<String>,
    /// Where each path is written in the mapping, by column index.
    spans: Vec<Span>,
    used: HashSet<String>,
    /// Columns mapped as `field?`: a file without them still reads (the field is null).
    may_be_absent: HashSet<String>,
    /// The scalar field paths the schema has here: what a misspelt path was meant to be.
    scalar_paths: Vec<String>,
    /// Required fields no column maps, as (relative path, full path).
    missing: Vec<(String, String)>,
}

impl Cols {
    fn new(columns: &indexmap::IndexMap<String, crate::model::spanned::Spanned<String>>) -> Self {
        let mut by_path = HashMap::new();
        let mut names = Vec::new();
        let mut spans = Vec::new();
        let mut may_be_absent = HashSet::new();
        for (col, spanned) in columns {
            spans.push(spanned.span);
            let path = spanned.value.trim();
            let path = match path.strip_suffix('?') {
                Some(p) => {
                    may_be_absent.insert(col.clone());
                    p.trim_end()
                }
                None => path,
            };
            by_path.insert(path.to_string(), names.len());
            names.push(col.clone());
        }
        Cols {
            by_path,
            names,
            spans,
            used: HashSet::new(),
            may_be_absent,
            scalar_paths: Vec::new(),
            missing: Vec::new(),
        }
    }

    fn has_prefix(&self, prefix: &str) -> bool {
        self.by_path.keys().any(|p| p.starts_with(prefix))
    }

    fn col(&mut self, path: &str) -> Option<usize> {
        self.scalar_paths.push(path.to_string());
        let col = self.by_path.get(path).copied()?;
        self.used.insert(path.to_string());
        Some(col)
    }

    /// The paths no field of the schema took, as (path, column index), in the mapping's order.
    fn unused(&self) -> Vec<(&str, usize)> {
        let mut v: Vec<(&str, usize)> = self
            .by_path
            .iter()
            .filter(|(p, _)| !self.used.contains(*p))
            .map(|(p, col)| (p.as_str(), *col))
            .collect();
        v.sort_by_key(|(_, col)| *col);
        v
    }
}

impl Builder<'_> {
    fn record(
        &mut self,
        record: RecordId,
        rel_prefix: &str,
        full_prefix: &str,
        cols: &mut Cols,
        lists: &HashMap<String, usize>,
    ) -> Vec<(String, Source)> {
        let schema = self.schema;
        let mut out = Vec::new();
        for field in &schema.record(record).fields {
            let rel = format!("{rel_prefix}{}", field.name);
            let full = format!("{full_prefix}{}", field.name);
            let source = match &field.ty {
                Type::Record(id) => {
                    let inside = format!("{full}.");
                    if field.optional && !cols.has_prefix(&format!("{rel}.")) {
                        // Without a column the record is never present, so its lists would never be read.
                        for list in lists.keys().filter(|l| l.starts_with(&inside)) {
                            self.errors.push(format!(
                                "`lists.{list}` is inside the optional record `{full}`, which no column maps, so it would never be read; map the record's columns (it is present when any of them is filled)"
                            ).into());
                        }
                    }
                    if !field.optional || cols.has_prefix(&format!("{rel}.")) {
                        Source::Record {
                            fields: self.record(
                                *id,
                                &format!("{rel}."),
                                &format!("{full}."),
                                cols,
                                lists,
                            ),
                            optional: field.optional,
                        }
                    } else {
                        Source::Null
                    }
                }
                Type::List(_) => match lists.get(&full) {
                    Some(n) => {
                        if field.optional {
                            self.optional_lists.insert(*n);
                        }
                        Source::List(*n)
                    }
                    None => Source::EmptyList,
                },
                ty => match cols.col(&rel) {
                    Some(col)
                        if !field.optional && cols.may_be_absent.contains(&cols.names[col]) =>
                    {
                        self.errors.push(format!(
                            "the column `{}` maps the required field `{full}`: only an optional field's column may be absent (`?`)",
                            cols.names[col]
                        ).into());
                        Source::Null
                    }
                    Some(col) => Source::Column {
                        col,
                        ty: ty.clone(),
                        optional: field.optional,
                        time_of_day: field.time_of_day,
                    },
                    None if field.optional => Source::Null,
                    None => {
                        // Said by `unmapped_and_unknown`, unless a misspelt path was meant for it.
                        cols.missing.push((rel, full));
                        Source::Null
                    }
                },
            };
            out.push((field.name.clone(), source));
        }
        out
    }
}

impl Builder<'_> {
    /// The paths of one file's columns that are no field (`not_a_field` says
    /// what they are not), each at its entry with the field it was most
    /// probably meant to be; then the required fields no column maps, but
    /// for those a misspelt path was meant for: that one error is the fix.
    fn unmapped_and_unknown(&mut self, cols: &Cols, not_a_field: impl Fn(&str, &str) -> String) {
        let mut meant = HashSet::new();
        for (path, col) in cols.unused() {
            let nearest = nearest(path, cols.scalar_paths.iter().map(String::as_str));
            meant.extend(nearest);
            let help = did_you_mean(path, nearest);
            self.errors.push(Problem {
                message: not_a_field(&cols.names[col], path),
                span: Some(cols.spans[col]),
                help,
            });
        }
        for (rel, full) in &cols.missing {
            if !meant.contains(rel.as_str()) {
                self.errors.push(
                    format!("the required field `{full}` has no column; map one in `columns`")
                        .into(),
                );
            }
        }
    }
}

impl Mapping {
    /// Checks a mapping document against the schema.
    pub fn build(schema: &Schema, doc: &MappingDoc) -> Result<Mapping, Vec<MappingError>> {
        let name = doc.mapping.value.clone();
        let mut b = Builder {
            schema,
            name: name.clone(),
            errors: Vec::new(),
            optional_lists: HashSet::new(),
        };
        // Lists first: their indices are referred to by the record plans.
        let mut list_index = HashMap::new();
        for (i, path) in doc.lists.keys().enumerate() {
            list_index.insert(path.clone(), i);
        }
        let mut lists = Vec::new();
        for (path, list) in &doc.lists {
            let (item, parent_path) = match list_item(schema, path) {
                Some(ListItem::Record(item, parent)) => (Some(item), parent),
                Some(ListItem::Scalar(ty)) => {
                    match scalar_list(path, list, ty) {
                        Ok(plan) => lists.push(plan),
                        Err(message) => b.errors.push(message.into()),
                    }
                    continue;
                }
                None => (None, None),
            };
            let Some(item) = item else {
                b.errors
                    .push(format!("`lists.{path}` is not a list in the schema").into());
                continue;
            };
            if parent_path.is_some() != list.parent.is_some() {
                b.errors.push(match parent_path {
                    Some(p) => format!(
                        "`lists.{path}` is inside the list `{p}`: give `parent`, the column with the {p} item's id"
                    ),
                    None => format!("`lists.{path}` is not inside another list: remove `parent`"),
                }.into());
            }
            let mut cols = Cols::new(&list.columns);
            let fields = b.record(item, "", &format!("{path}."), &mut cols, &list_index);
            b.unmapped_and_unknown(&cols, |column, unused| {
                format!("`lists.{path}` maps column `{column}` to `{unused}`, which is not a field of its items")
            });
            let absence = Absence::new(cols.may_be_absent, &fields, &cols.names);
            let mut columns = cols.names;
            let mut extra = |name: &str| match columns.iter().position(|c| c == name) {
                Some(i) => i,
                None => {
                    columns.push(name.to_string());
                    columns.len() - 1
                }
            };
            let key_col = extra(&list.key);
            let parent_col = list.parent.as_deref().map(&mut extra);
            let id_col = fields.iter().find_map(|(n, s)| match s {
                Source::Column { col, .. } if n == "id" => Some(*col),
                _ => None,
            });
            lists.push(ListPlan {
                path: path.clone(),
                file: list.file.clone(),
                shown: list.file.clone(),
                key: list.key.clone(),
                parent: list.parent.clone(),
                columns,
                fields,
                key_col,
                parent_col,
                id_col,
                width: 0,
                absence,
                scalar: false,
                not_read: false,
                optional: false,
            });
        }
        for list in &lists {
            let nested = lists.iter().any(|l| {
                l.path
                    .strip_prefix(&list.path)
                    .is_some_and(|r| r.starts_with('.'))
            });
            if nested && list.id_col.is_none() {
                b.errors.push(
                    format!(
                        "`lists.{}` has a nested list, so its items need an `id` column",
                        list.path
                    )
                    .into(),
                );
            }
        }
        let mut cols = Cols::new(&doc.columns);
        let fields = b.record(ACCOUNT, "", "", &mut cols, &list_index);
        b.unmapped_and_unknown(&cols, |column, unused| {
            format!("column `{column}` is mapped to `{unused}`, which is not a scalar field of the account schema")
        });
        let id_name = &schema.account().fields[schema.id_slot].name;
        let id_col = cols.by_path.get(id_name.as_str()).copied().unwrap_or(0);
        for (n, list) in lists.iter_mut().enumerate() {
            list.optional = b.optional_lists.contains(&n);
        }
        if b.errors.is_empty() {
            let absence = Absence::new(cols.may_be_absent, &fields, &cols.names);
            Ok(Mapping {
                name,
                columns: cols.names,
                fields,
                id_col,
                lists,
                absence,
                input_shown: "the input".into(),
            })
        } else {
            let name = b.name.clone();
            Err(b
                .errors
                .into_iter()
                .map(|problem| MappingError {
                    mapping: name.clone(),
                    message: problem.message,
                    span: problem.span,
                    help: problem.help,
                })
                .collect())
        }
    }

    /// The schema fields this mapping may leave empty for every account a
    /// batch reads with it, without a `--no-column` asked for: filled from no
    /// column and no companion file, or from a column mapped `field?` (an
    /// extract without it reads as null), as (record, slot, path such as
    /// `service_agreements[].space_heating`, how).
    pub fn unmapped_fields(&self, schema: &Schema) -> Vec<(RecordId, usize, String, Unmapped)> {
        let mut out = Vec::new();
        let account = (&self.columns[..], &self.absence);
        self.unmapped_in(schema, ACCOUNT, &self.fields, "", account, &mut out);
        out
    }

    fn unmapped_in(
        &self,
        schema: &Schema,
        record: RecordId,
        fields: &[(String, Source)],
        prefix: &str,
        (columns, absence): (&[String], &Absence),
        out: &mut Vec<(RecordId, usize, String, Unmapped)>,
    ) {
        for (slot, (name, source)) in fields.iter().enumerate() {
            let path = format!("{prefix}{name}");
            let ty = &schema.record(record).fields[slot].ty;
            match (source, ty) {
                (Source::Null, _) => out.push((record, slot, path, Unmapped::NoColumn)),
                (Source::EmptyList, _) => out.push((record, slot, path, Unmapped::NoFile)),
                (Source::Column { col, .. }, _) => {
                    if let Some(column) = columns
                        .get(*col)
                        .filter(|c| absence.may_be_absent.contains(*c))
                    {
                        out.push((record, slot, path, Unmapped::MayBeAbsent(column.clone())));
                    }
                }
                (Source::Record { fields, .. }, Type::Record(id)) => {
                    let inside = (columns, absence);
                    self.unmapped_in(schema, *id, fields, &format!("{path}."), inside, out)
                }
                (Source::List(n), Type::List(item)) => {
                    let list = &self.lists[*n];
                    if let (false, Type::Record(id)) = (list.scalar, item.as_ref()) {
                        let items = (&list.columns[..], &list.absence);
                        self.unmapped_in(
                            schema,
                            *id,
                            &list.fields,
                            &format!("{path}[]."),
                            items,
                            out,
                        )
                    }
                }
                _ => {}
            }
        }
    }

    /// Resolves column names against a file's header: the plan's column
    /// indices become header positions. Errors name every missing column.
    pub fn bind(&mut self, header: &StringRecord) -> Result<(), HeaderError> {
        let map = bind_columns(&self.columns, &self.absence, "", header, &self.input_shown)?;
        remap(&mut self.fields, &map);
        self.id_col = map[self.id_col];
        Ok(())
    }

    /// The field a bound column of the input is mapped to (`account.jurisdiction`),
    /// for a reject about a cell that could not even be read as text.
    pub fn field_of_column(&self, col: usize) -> Option<String> {
        field_in(&self.fields, col, "account")
    }

    /// The field a bound column of list `n`'s companion file is mapped to,
    /// for a reject about a cell that could not be read as text: with the
    /// item's index (`account.case.events[2].id`; `[]` in a nested list,
    /// whose index counts the parent item's rows only), or the list itself
    /// for a column mapped to no field (the key, the parent id).
    pub fn list_field_of_column(&self, n: usize, col: usize, item: usize) -> String {
        let list = &self.lists[n];
        let items = match list.parent_col {
            Some(_) => format!("account.{}[]", list.path.replace('.', "[].")),
            None => format!("account.{}[{item}]", list.path),
        };
        match &list.fields[..] {
            [(_, Source::Column { col: c, .. })] if list.scalar && *c == col => items,
            fields => {
                field_in(fields, col, &items).unwrap_or_else(|| format!("account.{}", list.path))
            }
        }
    }

    /// What a JSON Lines extract is checked for because a CSV extract must
    /// carry it although any account may leave it out: the fields of the
    /// extract's own columns (not a companion's) mapped to an optional field
    /// without `?` (the ones `--no-column` leaves out), and the optional lists
    /// read from a companion file (the ones `--no-companion` leaves out, the
    /// case's history and the contacts). Read before binding, while column
    /// indices name the mapping's columns.
    pub fn fields_required_as_columns(&self) -> Vec<RequiredField> {
        fn walk(
            fields: &[(String, Source)],
            mapping: &Mapping,
            keys: &[String],
            in_items: bool,
            out: &mut Vec<RequiredField>,
        ) {
            for (name, source) in fields {
                let mut keys = keys.to_vec();
                keys.push(name.clone());
                match source {
                    Source::Column { col, .. } if !in_items => {
                        let column = &mapping.columns[*col];
                        let absence = &mapping.absence;
                        if absence.optional.contains(column)
                            && !absence.may_be_absent.contains(column)
                        {
                            out.push(RequiredField {
                                keys,
                                carried_by: CsvCarrier::Column(column.clone()),
                            });
                        }
                    }
                    Source::Record { fields, .. } => walk(fields, mapping, &keys, in_items, out),
                    Source::List(n) => {
                        let list = &mapping.lists[*n];
                        if list.optional {
                            out.push(RequiredField {
                                keys: keys.clone(),
                                carried_by: CsvCarrier::CompanionFile(list.file.clone()),
                            });
                        }
                        // A required list is a reject where it is missing; its items' lists are not.
                        if !list.scalar {
                            walk(&list.fields, mapping, &keys, true, out);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.fields, self, &[], false, &mut out);
        out
    }

    /// Binds companion list `n` to its file's header.
    pub fn bind_list(
        &mut self,
        n: usize,
        header: &StringRecord,
        file: &str,
    ) -> Result<(), HeaderError> {
        let list = &mut self.lists[n];
        let flag_prefix = format!("{}.", list.path);
        let map = bind_columns(&list.columns, &list.absence, &flag_prefix, header, file)?;
        remap(&mut list.fields, &map);
        list.key_col = map[list.key_col];
        list.parent_col = list.parent_col.map(|c| map[c]);
        list.id_col = list.id_col.map(|c| map[c]);
        list.width = header.len();
        Ok(())
    }

    /// Names the extract in messages about its header (`the input `x.csv``).
    pub fn input_is(&mut self, shown: String) {
        self.input_shown = shown;
    }

    /// Names the file list `n` is read from (the mapping's pattern with
    /// `{stem}` filled in, or `--companion`'s path), for a reject to name it.
    pub fn read_from(&mut self, n: usize, file: &str) {
        self.lists[n].shown = file.to_string();
    }

    /// The indices of the lists read from companion files (all but those left unread).
    pub fn read_lists(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.lists.len()).filter(|&n| !self.lists[n].not_read)
    }

    /// Leaves list `n` unread (`batch --no-companion`): it is empty for every account.
    pub fn leave_unread(&mut self, n: usize) {
        self.lists[n].not_read = true;
    }

    /// Reads the column `name` (`TIME_ZONE`, or `service_agreements.SPACE_HEATING` for a
    /// companion's) as absent (`batch --no-column`): its field is null for every account.
    /// Only a column mapped to an optional field can be: a required one would reject every row.
    pub fn leave_column_unread(&mut self, name: &str) -> Result<(), String> {
        let (absence, column) = match self.lists.iter_mut().find_map(|l| {
            let column = name.strip_prefix(l.path.as_str())?.strip_prefix('.')?;
            l.columns.iter().any(|c| c == column).then_some((l, column))
        }) {
            Some((list, column)) => (&mut list.absence, column),
            None if self.columns.iter().any(|c| c == name) => (&mut self.absence, name),
            None => {
                let mut known: Vec<String> = self.columns.clone();
                for l in &self.lists {
                    known.extend(l.columns.iter().map(|c| format!("{}.{c}", l.path)));
                }
                // A companion's column without its list, a field's name, a slip of the case.
                let upper = name.to_ascii_uppercase();
                let meant = known
                    .iter()
                    .find(|k| k.rsplit('.').next() == Some(upper.as_str()))
                    .map(String::as_str)
                    .or_else(|| {
                        crate::diagnostic::nearest(&upper, known.iter().map(String::as_str))
                    });
                return Err(match meant {
                    Some(meant) => format!(
                        "--no-column `{name}`: the mapping `{}` maps no such column; did you mean `{meant}`? (a companion's column is named with its list: `service_agreements.SPACE_HEATING`)",
                        self.name
                    ),
                    None => format!(
                        "--no-column `{name}`: the mapping `{}` maps no such column (a companion's column is named with its list: `service_agreements.SA_TYPE`; it maps: {})",
                        self.name,
                        known.join(", ")
                    ),
                });
            }
        };
        if !absence.optional.contains(column) {
            return Err(format!(
                "--no-column `{name}`: the column maps a required field (or is the key), so without it every row would be rejected; only a column of an optional field can be left unread"
            ));
        }
        absence.not_read.insert(column.to_string());
        Ok(())
    }

    /// Whether the mapping maps the column `name` (named as `--no-column` names it).
    pub fn maps_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
            || self.lists.iter().any(|l| {
                name.strip_prefix(l.path.as_str())
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|column| l.columns.iter().any(|c| c == column))
            })
    }

    /// The columns `--no-column` named, as it named them, sorted.
    pub fn columns_not_read(&self) -> Vec<String> {
        let mut names: Vec<String> = self.absence.not_read.iter().cloned().collect();
        for l in &self.lists {
            names.extend(l.absence.not_read.iter().map(|c| format!("{}.{c}", l.path)));
        }
        names.sort();
        names
    }

    /// Decodes one bound row, with the companion rows of this account (per
    /// list: line number in its file and the row).
    pub fn decode(
        &self,
        schema: &Schema,
        row: &StringRecord,
        companions: &[Vec<(u64, StringRecord)>],
    ) -> Result<Value, Vec<FieldError>> {
        let mut errors = Vec::new();
        let ctx = Ctx {
            schema,
            mapping: self,
            companions,
        };
        let value = ctx.record(&self.fields, row, &FieldPath::Root("account"), &mut errors);
        ctx.unmatched_children(&mut errors);
        if errors.is_empty() {
            check_combinations(schema, &value, &mut errors);
        }
        if errors.is_empty() {
            Ok(value)
        } else {
            Err(errors)
        }
    }
}

/// A field a CSV extract must carry a column or a companion file for
/// ([`Mapping::fields_required_as_columns`]).
#[derive(Debug, Clone)]
pub struct RequiredField {
    /// Its keys from the account down (`pay_plan`, `scheduled_due`; a list's
    /// items are not a key: `promises`, `payments`).
    pub keys: Vec<String>,
    pub carried_by: CsvCarrier,
}

/// What carries a [`RequiredField`] in a CSV extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvCarrier {
    /// A column of the extract (`TIME_ZONE`).
    Column(String),
    /// A list's companion file, as the mapping names it (`{stem}.contacts.csv`).
    CompanionFile(String),
}

/// The field `col` is mapped to among `fields`, under `path`.
fn field_in(fields: &[(String, Source)], col: usize, path: &str) -> Option<String> {
    fields.iter().find_map(|(name, source)| match source {
        Source::Column { col: c, .. } if *c == col => Some(format!("{path}.{name}")),
        Source::Record { fields, .. } => field_in(fields, col, &format!("{path}.{name}")),
        _ => None,
    })
}

/// A column the header lacks is an error, unless the mapping says an older file may lack it
/// (`field?`) or `--no-column` said this one does: then it reads as an empty cell (past the
/// row's last column). The error names, for a column of an optional field, the way to run without it.
fn bind_columns(
    names: &[String],
    absence: &Absence,
    flag_prefix: &str,
    header: &StringRecord,
    file: &str,
) -> Result<Vec<usize>, HeaderError> {
    let mut map = Vec::with_capacity(names.len());
    let mut missing = Vec::new();
    let mut optional_missing = Vec::new();
    for name in names {
        let mut at = header.iter().enumerate().filter(|(_, h)| h.trim() == name);
        let first = at.next().map(|(i, _)| i);
        if let (Some(i), Some((j, _))) = (first, at.next()) {
            return Err(HeaderError::from(format!(
                "{file} has the column `{name}` twice (columns {} and {}); rename or remove one",
                i + 1,
                j + 1
            )));
        }
        match first {
            Some(i) if absence.not_read.contains(name) => {
                return Err(HeaderError::from(format!(
                    "{file} has the column `{name}` (column {}), but --no-column {flag_prefix}{name} says it lacks it; remove --no-column {flag_prefix}{name} so that it is read",
                    i + 1
                )))
            }
            Some(i) => map.push(i),
            None if absence.may_be_absent.contains(name) || absence.not_read.contains(name) => {
                map.push(usize::MAX)
            }
            None => {
                missing.push(format!("`{name}`"));
                if absence.optional.contains(name) {
                    optional_missing.push(format!("--no-column {flag_prefix}{name}"));
                }
                map.push(0);
            }
        }
    }
    if missing.is_empty() {
        return Ok(map);
    }
    let mut message = format!(
        "{file} has no column {} (its header: {})",
        missing.join(", "),
        header.iter().collect::<Vec<_>>().join(",")
    );
    if !optional_missing.is_empty() {
        // An extract cut before a column existed: say how to run without it, and what it costs.
        message.push_str(&format!(
            "; an extract without {} runs with {} (the {} then null for every account, and the rules that read {} see nothing there: a guard rail does not apply, or fails safe: docs/batch.md)",
            match optional_missing.len() {
                1 => "it",
                _ => "them",
            },
            optional_missing.join(" "),
            match optional_missing.len() {
                1 => "field is",
                _ => "fields are",
            },
            match optional_missing.len() {
                1 => "it",
                _ => "them",
            },
        ));
        if optional_missing.len() < missing.len() {
            message.push_str(
                "; the other columns are of fields every account has, which `--no-column` cannot leave out",
            );
        }
    }
    Err(HeaderError {
        message,
        ways_out: optional_missing,
    })
}

/// A header the mapping cannot be bound to: the message, and the `--no-column`
/// flags that would run the file without its missing columns (or list).
#[derive(Debug, Clone)]
pub struct HeaderError {
    pub message: String,
    pub ways_out: Vec<String>,
}

impl From<String> for HeaderError {
    fn from(message: String) -> Self {
        HeaderError {
            message,
            ways_out: Vec::new(),
        }
    }
}

impl From<HeaderError> for String {
    fn from(e: HeaderError) -> String {
        e.message
    }
}

/// Every file's header problems as one message: each file's in turn (a run
/// stopped at the first would name the next file's only on the next run),
/// and, when several files lack columns `--no-column` may leave out (or are
/// missing, `--no-companion`), the flags for all of them together.
pub fn header_errors(errors: Vec<HeaderError>) -> String {
    let ways_out: Vec<String> = errors.iter().flat_map(|e| e.ways_out.clone()).collect();
    let files_with_ways_out = errors.iter().filter(|e| !e.ways_out.is_empty()).count();
    let mut message = errors
        .into_iter()
        .map(|e| e.message)
        .collect::<Vec<_>>()
        .join("; and ");
    if files_with_ways_out > 1 {
        message.push_str(&format!(
            "; together, an extract without them all runs with {}",
            ways_out.join(" ")
        ));
    }
    message
}

fn remap(fields: &mut [(String, Source)], map: &[usize]) {
    for (_, s) in fields {
        match s {
            Source::Column { col, .. } => *col = map[*col],
            Source::Record { fields, .. } => remap(fields, map),
            _ => {}
        }
    }
}

/// A list of scalars read from a companion file: one column, mapped to `.` (the item itself).
fn scalar_list(
    path: &str,
    list: &crate::model::doc::ListMappingDoc,
    ty: Type,
) -> Result<ListPlan, String> {
    if list.parent.is_some() {
        return Err(format!(
            "`lists.{path}` is not inside another list: remove `parent`"
        ));
    }
    let mut cols = list.columns.iter();
    let (column, key_col) = match (cols.next(), cols.next()) {
        (Some((column, to)), None) if to.value.trim() == SCALAR_ITEM => (column.clone(), 1),
        _ => {
            return Err(format!(
                "`lists.{path}` is a list of single values, not records: map exactly one column to `{SCALAR_ITEM}` (the item itself)"
            ))
        }
    };
    let mut columns = vec![column];
    let key_col = match columns.iter().position(|c| *c == list.key) {
        Some(i) => i,
        None => {
            columns.push(list.key.clone());
            key_col
        }
    };
    Ok(ListPlan {
        path: path.to_string(),
        file: list.file.clone(),
        shown: list.file.clone(),
        key: list.key.clone(),
        parent: None,
        columns,
        fields: vec![(
            SCALAR_ITEM.to_string(),
            Source::Column {
                col: 0,
                ty,
                optional: false,
                time_of_day: false,
            },
        )],
        key_col,
        parent_col: None,
        id_col: None,
        width: 0,
        absence: Absence::default(),
        scalar: true,
        not_read: false,
        optional: false,
    })
}

/// What a list path's items are: records, with the enclosing list's path for
/// a nested list, or scalars. A path may go through records (`case.events`).
fn list_item(schema: &Schema, path: &str) -> Option<ListItem> {
    let mut record = ACCOUNT;
    let mut parent: Option<String> = None;
    let mut walked = String::new();
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let def = schema.record(record);
        let field = &def.fields[def.slot(part)?];
        let last = i + 1 == parts.len();
        match &field.ty {
            Type::List(inner) => match inner.as_ref() {
                Type::Record(id) => {
                    if last {
                        return Some(ListItem::Record(*id, parent));
                    }
                    if !walked.is_empty() {
                        walked.push('.');
                    }
                    walked.push_str(part);
                    parent = Some(walked.clone());
                    record = *id;
                    continue;
                }
                Type::List(_) => return None,
                scalar if last && parent.is_none() => {
                    return Some(ListItem::Scalar(scalar.clone()))
                }
                _ => return None,
            },
            Type::Record(id) if !last => record = *id,
            _ => return None,
        }
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(part);
    }
    None
}

struct Ctx<'a> {
    schema: &'a Schema,
    mapping: &'a Mapping,
    companions: &'a [Vec<(u64, StringRecord)>],
}

impl Ctx<'_> {
    fn record(
        &self,
        fields: &[(String, Source)],
        row: &StringRecord,
        path: &FieldPath,
        errors: &mut Vec<FieldError>,
    ) -> Value {
        let values = fields
            .iter()
            .map(|(name, source)| match source {
                Source::Null => Value::Null,
                Source::EmptyList => Value::List(Arc::from(Vec::new())),
                Source::Column {
                    col,
                    ty,
                    optional,
                    time_of_day,
                } => {
                    let cell = row.get(*col).unwrap_or("");
                    let field = FieldPath::Field(path, name);
                    let value = decode_cell(self.schema, ty, *optional, cell, &field, errors);
                    match (time_of_day, &value) {
                        (true, Value::Text(text)) => {
                            match crate::data::schema::time_of_day_error(text) {
                                Some(message) => {
                                    errors.push(FieldError {
                                        field: field.to_string(),
                                        message,
                                    });
                                    Value::Null
                                }
                                None => value,
                            }
                        }
                        _ => value,
                    }
                }
                Source::Record { fields, optional } => {
                    if *optional && all_empty(fields, row) {
                        self.orphan_items(fields, &FieldPath::Field(path, name), errors);
                        Value::Null
                    } else {
                        self.record(fields, row, &FieldPath::Field(path, name), errors)
                    }
                }
                Source::List(n) => self.list(*n, &FieldPath::Field(path, name), row, errors),
            })
            .collect::<Arc<[Value]>>();
        Value::Record(values)
    }

    /// Companion rows of a list inside an optional record the row leaves
    /// empty (an event for an account without a case) belong to nothing: an
    /// error naming the file and line, not items quietly dropped.
    fn orphan_items(
        &self,
        fields: &[(String, Source)],
        path: &FieldPath,
        errors: &mut Vec<FieldError>,
    ) {
        for (name, source) in fields {
            let n = match source {
                Source::List(n) => *n,
                Source::Record { fields, .. } => {
                    self.orphan_items(fields, &FieldPath::Field(path, name), errors);
                    continue;
                }
                _ => continue,
            };
            let plan = &self.mapping.lists[n];
            if let Some((line, _)) = self.companions.get(n).and_then(|rows| rows.first()) {
                errors.push(FieldError {
                    field: path.to_string(),
                    message: format!(
                        "the account has no `{}` (its columns are empty), but `{}` line {line} lists an item of `{}` for it",
                        path.to_string().trim_start_matches("account."),
                        plan.shown,
                        plan.path
                    ),
                });
            }
        }
    }

    /// The list `n` is nested in (`promises` for `promises.payments`).
    fn parent_of(&self, n: usize) -> Option<usize> {
        let path = &self.mapping.lists[n].path;
        self.mapping.lists.iter().position(|l| {
            path.strip_prefix(&l.path)
                .is_some_and(|r| r.starts_with('.'))
        })
    }

    /// Rows of a nested list whose parent id (`PROMISE_ID`) names no item
    /// of the account's parent list belong to nothing: an error naming the
    /// file, line and id, not rows quietly dropped. A parent list left
    /// unread (`--no-companion`) has no items to match.
    fn unmatched_children(&self, errors: &mut Vec<FieldError>) {
        for (n, plan) in self.mapping.lists.iter().enumerate() {
            let (Some(pc), Some(p)) = (plan.parent_col, self.parent_of(n)) else {
                continue;
            };
            let parent = &self.mapping.lists[p];
            let Some(id_col) = parent.id_col.filter(|_| !parent.not_read) else {
                continue;
            };
            let parent_rows = self.companions.get(p).map(Vec::as_slice).unwrap_or(&[]);
            let rows = self.companions.get(n).map(Vec::as_slice).unwrap_or(&[]);
            for (line, row) in rows {
                let id = trim_cell(row.get(pc).unwrap_or(""));
                let matched = parent_rows
                    .iter()
                    .any(|(_, r)| trim_cell(r.get(id_col).unwrap_or("")) == id);
                if !matched {
                    let column = plan.parent.as_deref().unwrap_or_default();
                    errors.push(FieldError {
                        field: format!("account.{}", parent.path),
                        message: format!(
                            "`{}` line {line} lists an item of `{}` for {column} `{}`, but the account has no item of `{}` with that id (`{}`)",
                            plan.shown,
                            plan.path,
                            crate::diagnostic::echoed(id),
                            parent.path,
                            parent.shown
                        ),
                    });
                }
            }
        }
    }

    fn list(
        &self,
        n: usize,
        path: &FieldPath,
        parent_row: &StringRecord,
        errors: &mut Vec<FieldError>,
    ) -> Value {
        let plan = &self.mapping.lists[n];
        let rows = self.companions.get(n).map(Vec::as_slice).unwrap_or(&[]);
        // A nested list keeps only the rows of this parent item.
        let parent_id = match plan.parent_col {
            Some(_) => {
                let parent = self.parent_of(n).map(|p| &self.mapping.lists[p]);
                parent
                    .and_then(|p| p.id_col)
                    .map(|c| trim_cell(parent_row.get(c).unwrap_or("")))
            }
            None => None,
        };
        let mut items = Vec::new();
        for (line, row) in rows {
            if let (Some(pc), Some(pid)) = (plan.parent_col, parent_id) {
                if trim_cell(row.get(pc).unwrap_or("")) != pid {
                    continue;
                }
            }
            let item_path = FieldPath::Item(path, items.len());
            let before = errors.len();
            if row.len() != plan.width {
                errors.push(FieldError {
                    field: item_path.to_string(),
                    message: format!(
                        "expected {} columns, found {} (`{}` line {line})",
                        plan.width,
                        row.len(),
                        plan.shown
                    ),
                });
                continue;
            }
            let item = match (&plan.fields[..], plan.scalar) {
                (
                    [(
                        _,
                        Source::Column {
                            col, ty, optional, ..
                        },
                    )],
                    true,
                ) => decode_cell(
                    self.schema,
                    ty,
                    *optional,
                    row.get(*col).unwrap_or(""),
                    &item_path,
                    errors,
                ),
                _ => self.record(&plan.fields, row, &item_path, errors),
            };
            for e in &mut errors[before..] {
                e.message = format!("{} (`{}` line {line})", e.message, plan.shown);
            }
            items.push(item);
        }
        Value::List(Arc::from(items))
    }
}

fn all_empty(fields: &[(String, Source)], row: &StringRecord) -> bool {
    fields.iter().all(|(_, s)| match s {
        Source::Column { col, .. } => trim_cell(row.get(*col).unwrap_or("")).is_empty(),
        Source::Record { fields, .. } => all_empty(fields, row),
        _ => true,
    })
}

/// One text cell as a value of its field's type.
fn decode_cell(
    schema: &Schema,
    ty: &Type,
    optional: bool,
    cell: &str,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) -> Value {
    let s = trim_cell(cell);
    if s.is_empty() {
        if !optional {
            errors.push(FieldError {
                field: path.to_string(),
                message: "missing required value (empty cell)".into(),
            });
        }
        return Value::Null;
    }
    let decoded = match ty {
        // The one exact reader of every format: a 29th digit is refused, not rounded.
        Type::Money | Type::Decimal => match read_decimal(s) {
            Ok(d) => Some(Value::Dec(d)),
            Err(NumberError::NotANumber) => None,
            Err(e) => {
                let shown = crate::diagnostic::echoed(s);
                errors.push(FieldError {
                    field: path.to_string(),
                    message: format!("`{shown}` {}", e.reason()),
                });
                return Value::Null;
            }
        },
        Type::Integer | Type::Days => s.parse::<i64>().ok().map(Value::Int),
        Type::Date => parse_date(s).map(Value::Date),
        Type::Bool => match s {
            "true" | "TRUE" | "True" | "Y" | "y" | "1" => Some(Value::Bool(true)),
            "false" | "FALSE" | "False" | "N" | "n" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        Type::Text => Some(Value::Text(Arc::from(s))),
        Type::Enum(e) => match schema.variant(*e, s) {
            Some(v) => Some(Value::Enum(v)),
            None => {
                errors.push(unknown_variant(schema, *e, s, path));
                return Value::Null;
            }
        },
        _ => None,
    };
    decoded.unwrap_or_else(|| {
        let shown = format!("`{}`", crate::diagnostic::echoed(s));
        let expected = match ty {
            Type::Money => "money such as 12.50",
            Type::Decimal => "a decimal number",
            Type::Integer => "an integer",
            Type::Days => "a whole number of days",
            Type::Date => "a date YYYY-MM-DD",
            Type::Bool => "true or false",
            _ => "a value",
        };
        let message = match ty {
            Type::Integer | Type::Days => whole_number_error(s, &shown, expected),
            _ => None,
        };
        errors.push(FieldError {
            field: path.to_string(),
            message: message.unwrap_or_else(|| format!("expected {expected}, found {shown}")),
        });
        Value::Null
    })
}

/// A CSV cell without surrounding whitespace: `str::trim`, with the ASCII
/// case (nearly every cell) done without Unicode tables.
pub fn trim_cell(cell: &str) -> &str {
    let s = cell.trim_ascii();
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if !a.is_ascii() || !b.is_ascii() => s.trim(),
        _ => s,
    }
}

/// `YYYY-MM-DD` without the generality (and cost) of a format string.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
        })
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

#[cfg(test)]
mod tests {
    use super::trim_cell;

    #[test]
    fn trim_cell_is_str_trim() {
        for cell in [
            "",
            " ",
            "  12.50 ",
            "\t7\r",
            "ab",
            "\u{a0}5\u{a0}",
            " \u{2003}x",
            "é ",
            " é",
            "\u{3000}",
        ] {
            assert_eq!(trim_cell(cell), cell.trim(), "{cell:?}");
        }
    }
}
