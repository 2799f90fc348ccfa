//! A CSV extract and one companion file through the batch as `arrears batch`
//! runs it: the CSV reader, the shipped `extract-v1` mapping, the typed row
//! decoder, the shipped policy and both output formats.
//!
//! Input: byte 0 picks the companion list (bits 0-1, and bit 4 for the
//! case's history lists: `case.events`, `case.contacts`, `case.removed_sas`),
//! the output format (bit 2) and `--all-tables` (bit 3); the rest is the extract up to the first NUL
//! byte, then the companion file. The other lists get a header-only file.
//! Every row read must be evaluated or rejected, and every output line must
//! be well formed.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use arrears::data::batch::{
    self, CompanionFile, CsvSource, Evaluate, Mapping, OutputFormat, Settings,
};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    docs: arrears::model::RuleDocs,
    loaded: arrears::policy::Loaded,
    /// Per list, a companion file holding only its header.
    headers_only: Vec<PathBuf>,
    /// Where the fuzzed companion is written.
    companion: PathBuf,
    pool: rayon::ThreadPool,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let docs = arrears::model::load_dir(&rules).expect("shipped rules load");
    let loaded = arrears::policy::build(&docs);
    assert!(!loaded.has_errors(), "shipped rules have errors");
    let dir = std::env::temp_dir().join(format!("arrears-fuzz-batch-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let writers =
        arrears::data::generate::CsvWriters::new(Vec::new(), Default::default()).expect("headers");
    let (extract_header, companions) = writers.finish().expect("headers");
    let headers_only: Vec<PathBuf> = companions
        .iter()
        .enumerate()
        .map(|(n, header)| {
            let path = dir.join(format!("list-{n}.csv"));
            std::fs::write(&path, header).expect("write header");
            path
        })
        .collect();
    // The generator's headers bind to the shipped mapping: fuzzed rows get past the header.
    let policy = loaded.policy.as_ref().expect("shipped policy");
    let (_, doc) = docs.mappings.first().expect("shipped mapping");
    let mut mapping = Mapping::build(policy.plan.schema(), doc).expect("shipped mapping builds");
    let extract_header: Box<dyn std::io::Read + Send> =
        Box::new(std::io::Cursor::new(extract_header));
    let files: Vec<CompanionFile> = headers_only.iter().cloned().map(CompanionFile::from).collect();
    if let Err(e) = CsvSource::open(extract_header, &mut mapping, &files) {
        panic!("the generated headers do not bind to the shipped mapping: {e}");
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("thread pool");
    Fixture {
        docs,
        loaded,
        headers_only,
        companion: dir.join("fuzzed.csv"),
        pool,
    }
});

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let (extract, companion) = match rest.iter().position(|&b| b == 0) {
        Some(nul) => (&rest[..nul], &rest[nul + 1..]),
        None => (rest, &[][..]),
    };
    let fx = &*FIXTURE;
    let policy = fx.loaded.policy.as_ref().expect("shipped policy");
    let (_, doc) = fx.docs.mappings.first().expect("shipped mapping");
    let mut mapping = Mapping::build(policy.plan.schema(), doc).expect("shipped mapping builds");
    let fuzzed_list = usize::from((control & 3) | ((control >> 2) & 4)) % mapping.lists.len();
    std::fs::write(&fx.companion, companion).expect("write companion");
    let paths: Vec<CompanionFile> = (0..mapping.lists.len())
        .map(|n| {
            CompanionFile::from(if n == fuzzed_list {
                fx.companion.clone()
            } else {
                fx.headers_only[n].clone()
            })
        })
        .collect();
    let input: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(extract.to_vec()));
    let Ok(source) = CsvSource::open(input, &mut mapping, &paths) else {
        return;
    };
    let output = if control & 4 == 0 {
        OutputFormat::Jsonl
    } else {
        OutputFormat::Csv
    };
    let settings = Settings {
        evaluate: Evaluate::Policy(policy),
        mapping: Some(&mapping),
        as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"),
        output,
        max_rejects: None,
        chunk_rows: 64,
        all_tables: control & 8 != 0,
        open_cases: None,
    };
    let (mut out, mut rejects) = (Vec::new(), Vec::new());
    let Ok(summary) = batch::run(
        &settings,
        Box::new(source),
        &mut out,
        &mut rejects,
        &fx.pool,
        &|_| {},
    ) else {
        return;
    };
    assert!(summary.balanced, "rows lost: {summary:?}");
    let lines = |bytes: &[u8]| -> Vec<serde_json::Value> {
        bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("a JSON line"))
            .collect()
    };
    assert_eq!(lines(&rejects).len() as u64, summary.rejected);
    let actions = match output {
        OutputFormat::Jsonl => lines(&out).len(),
        OutputFormat::Csv => {
            let mut reader = csv::Reader::from_reader(out.as_slice());
            let mut rows = 0;
            for record in reader.records() {
                let record = record.expect("an action is a CSV row");
                assert_eq!(record.len(), 5, "{record:?}");
                serde_json::from_str::<serde_json::Value>(&record[4]).expect("fields are JSON");
                rows += 1;
            }
            rows
        }
    };
    assert_eq!(actions as u64, summary.actions);
});
