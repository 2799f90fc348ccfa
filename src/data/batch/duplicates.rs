//! The account ids the extract's rows had: the ids of a part's evaluated rows
//! and the hashes of every id seen before, so that the summary counts rows
//! repeating an earlier row's account id; and the ids of rejected rows, so that
//! `--open-cases` knows every account the extract has (open_cases.rs). It must
//! not reject a repeated id: each row gets its own actions.

use std::collections::HashSet;

use super::summary::Summary;

/// Duplicate account ids shown in the summary.
const DUPLICATE_EXAMPLES: usize = 5;

fn hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// Account ids, one string buffer for a part's evaluated rows, each with its
/// hash; the hashes of its rejected rows' ids, and how many had none.
#[derive(Default)]
pub(super) struct Ids {
    hashes: Vec<u64>,
    ends: Vec<usize>,
    text: String,
    rejected: Vec<u64>,
    rejects_without_id: u64,
}

impl Ids {
    pub(super) fn push(&mut self, id: &str) {
        self.hashes.push(hash(id));
        self.text.push_str(id);
        self.ends.push(self.text.len());
    }

    /// A rejected row's account id, if it could be read.
    pub(super) fn push_rejected(&mut self, id: Option<&str>) {
        match id.filter(|id| !id.is_empty()) {
            Some(id) => self.rejected.push(hash(id)),
            None => self.rejects_without_id += 1,
        }
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
/// probability under 10^-6 in a 5-million-row extract. Rejected rows' ids
/// are kept apart (rejects are few), so a rejected row does not make a
/// later evaluated row with its id a duplicate.
#[derive(Default)]
pub(super) struct SeenIds {
    evaluated: HashSet<u64>,
    rejected: HashSet<u64>,
    rejects_without_id: u64,
}

impl SeenIds {
    pub(super) fn check(&mut self, ids: &Ids, summary: &mut Summary) {
        for (hash, id) in ids.iter() {
            if !self.evaluated.insert(hash) {
                summary.duplicate_account_ids += 1;
                let examples = &summary.duplicate_account_id_examples;
                if examples.len() < DUPLICATE_EXAMPLES && !examples.iter().any(|e| e == id) {
                    summary.duplicate_account_id_examples.push(id.to_string());
                }
            }
        }
        self.rejected.extend(&ids.rejected);
        self.rejects_without_id += ids.rejects_without_id;
    }

    /// Whether some row, evaluated or rejected, had this account id (a hash
    /// collision answers yes: the safe side for closing a case).
    pub(super) fn contains(&self, id: &str) -> bool {
        let h = hash(id);
        self.evaluated.contains(&h) || self.rejected.contains(&h)
    }

    /// Rejected rows whose account id could not be read.
    pub(super) fn rejects_without_id(&self) -> u64 {
        self.rejects_without_id
    }
}
