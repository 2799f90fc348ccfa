//! Duplicate account ids: the ids of a part's evaluated rows and the hashes
//! of every id seen before, so that the summary counts rows repeating an
//! earlier row's account id. It must not reject such a row: each one gets its
//! own actions.

use super::summary::Summary;

/// Duplicate account ids shown in the summary.
const DUPLICATE_EXAMPLES: usize = 5;

/// Account ids, one string buffer for a part's rows, each with its hash.
#[derive(Default)]
pub(super) struct Ids {
    hashes: Vec<u64>,
    ends: Vec<usize>,
    text: String,
}

impl Ids {
    pub(super) fn push(&mut self, id: &str) {
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
pub(super) struct SeenIds(std::collections::HashSet<u64>);

impl SeenIds {
    pub(super) fn check(&mut self, ids: &Ids, summary: &mut Summary) {
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
