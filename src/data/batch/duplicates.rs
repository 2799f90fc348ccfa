//! The account ids the extract's rows had: the ids of a part's evaluated rows
//! and a compact store of every id seen before ([`IdStore`], 8 bytes an id),
//! so that the summary counts rows repeating an earlier row's account id; and
//! the ids of rejected rows, so that `--open-cases` knows every account the
//! extract has (open_cases.rs), and whether companion rows no row took are
//! of an account the extract has (csv_source.rs `LeftOver`). It must not
//! reject a repeated id: each row gets its own actions.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use super::summary::Summary;

/// Duplicate account ids shown in the summary.
const DUPLICATE_EXAMPLES: usize = 5;
/// The longest id [`key`] packs exactly.
const PACKED_MAX: usize = 12;
/// Marks a packed key; a hashed key has this bit clear, so the two never meet.
const PACKED: u64 = 1 << 63;

/// An id as 64 bits: exact for 1 to 12 characters of `0-9A-Z` (bijective
/// base 37 — 37^12 < 2^63 — with the top bit set), which covers the usual
/// account numbers (`AC000000001`); any other id is its 63-bit xxh3 hash.
pub(super) fn key(id: &str) -> u64 {
    if (1..=PACKED_MAX).contains(&id.len()) {
        let mut packed = 0u64;
        let mut exact = true;
        for b in id.bytes() {
            let digit = match b {
                b'0'..=b'9' => b - b'0' + 1,
                b'A'..=b'Z' => b - b'A' + 11,
                _ => {
                    exact = false;
                    break;
                }
            };
            packed = packed * 37 + u64::from(digit);
        }
        if exact {
            return packed | PACKED;
        }
    }
    xxhash_rust::xxh3::xxh3_64(id.as_bytes()) & !PACKED
}

/// Account ids, one string buffer for a part's evaluated rows, each with its
/// key; the keys of its rejected rows' ids, and how many had none.
#[derive(Default)]
pub(super) struct Ids {
    keys: Vec<u64>,
    ends: Vec<usize>,
    text: String,
    rejected: Vec<u64>,
    rejects_without_id: u64,
}

impl Ids {
    pub(super) fn push(&mut self, id: &str) {
        self.keys.push(key(id));
        self.text.push_str(id);
        self.ends.push(self.text.len());
    }

    /// A rejected row's account id, if it could be read.
    pub(super) fn push_rejected(&mut self, id: Option<&str>) {
        match id.filter(|id| !id.is_empty()) {
            Some(id) => self.rejected.push(key(id)),
            None => self.rejects_without_id += 1,
        }
    }

    fn iter(&self) -> impl Iterator<Item = (u64, &str)> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        self.keys
            .iter()
            .zip(starts.zip(&self.ends))
            .map(|(&k, (a, &b))| (k, &self.text[a..b]))
    }
}

/// The ids evaluated so far (keys from [`key`]): a repeat is counted. Exact
/// for packed ids; two different hashed ids share a key with a probability
/// under 10^-5 in a 5-million-row extract. Rejected rows' ids are kept apart
/// (rejects are few), so a rejected row does not make a later evaluated row
/// with its id a duplicate.
#[derive(Default)]
pub(super) struct SeenIds {
    evaluated: IdStore,
    rejected: HashSet<u64>,
    rejects_without_id: u64,
}

impl SeenIds {
    pub(super) fn check(&mut self, ids: &Ids, summary: &mut Summary) {
        for (key, id) in ids.iter() {
            if !self.evaluated.insert(key) {
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
        let k = key(id);
        self.evaluated.contains(k) || self.rejected.contains(&k)
    }

    /// Rejected rows whose account id could not be read.
    pub(super) fn rejects_without_id(&self) -> u64 {
        self.rejects_without_id
    }
}

/// Account ids met so far, for a command outside the batch (`diff`) that
/// warns of a repeated id as the batch does, in the same 8 bytes an id.
#[derive(Default)]
pub struct RepeatedIds(IdStore);

impl RepeatedIds {
    /// Whether `id` is met for the first time (a hash collision says no).
    pub fn first_time(&mut self, id: &str) -> bool {
        self.0.insert(key(id))
    }
}

/// Buckets of the store, by the top byte of the mixed key.
const BUCKETS: usize = 256;
/// Keys gathered in the recent set before the first merge.
const MIN_RECENT: usize = 1 << 16;

/// A key mixed by an odd multiplier: a bijection (so nothing is lost), and
/// its bits come out evenly spread even for packed ids with a common prefix,
/// so a bucket is found by the top byte and a key inside it by interpolation.
fn mix(key: u64) -> u64 {
    key.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn bucket(mixed: u64) -> usize {
    (mixed >> 56) as usize
}

/// Whether the sorted `keys` (mixed keys of one bucket, spread evenly) hold
/// `m`: a guess from its low 56 bits, then a gallop and a binary search
/// around it, so a lookup touches a few neighbouring cache lines rather
/// than a dozen far apart.
fn find(keys: &[u64], m: u64) -> bool {
    let n = keys.len();
    if n == 0 {
        return false;
    }
    let guess = ((u128::from(m << 8) * n as u128) >> 64) as usize;
    let at = keys[guess];
    let (lo, hi) = if at == m {
        return true;
    } else if at < m {
        let (mut lo, mut step) = (guess + 1, 1);
        loop {
            let probe = guess + step;
            if probe >= n {
                break (lo, n);
            }
            if keys[probe] >= m {
                break (lo, probe + 1);
            }
            lo = probe + 1;
            step *= 2;
        }
    } else {
        let (mut hi, mut step) = (guess, 1);
        loop {
            if step > guess {
                break (0, hi);
            }
            let probe = guess - step;
            if keys[probe] <= m {
                break (probe, hi);
            }
            hi = probe;
            step *= 2;
        }
    };
    keys[lo..hi].binary_search(&m).is_ok()
}

/// A set of 64-bit keys at about 8 bytes a key (a `HashSet<u64>` takes 16 to
/// 32 while it grows): [`BUCKETS`] sorted slices of mixed keys, each exactly
/// its length, plus a hash set of the keys added since the last merge. The
/// recent set is merged into the slices once it holds a sixteenth of the
/// store (at least [`MIN_RECENT`]), so merging copies each key about 16 times
/// in all and the recent set stays small; a merge allocates one bucket at a
/// time.
pub(super) struct IdStore {
    sorted: Vec<Box<[u64]>>,
    recent: HashSet<u64, BuildHasherDefault<KeyHasher>>,
    merged: usize,
}

impl Default for IdStore {
    fn default() -> Self {
        IdStore {
            sorted: (0..BUCKETS).map(|_| Box::default()).collect(),
            recent: HashSet::default(),
            merged: 0,
        }
    }
}

impl IdStore {
    /// Adds `key`: `false` when it was there already.
    pub(super) fn insert(&mut self, key: u64) -> bool {
        let m = mix(key);
        if find(&self.sorted[bucket(m)], m) || !self.recent.insert(m) {
            return false;
        }
        if self.recent.len() >= MIN_RECENT.max(self.merged / 16) {
            self.merge();
        }
        true
    }

    pub(super) fn contains(&self, key: u64) -> bool {
        let m = mix(key);
        self.recent.contains(&m) || find(&self.sorted[bucket(m)], m)
    }

    /// How many keys the store holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.merged + self.recent.len()
    }

    fn merge(&mut self) {
        let mut fresh: Vec<u64> = self.recent.drain().collect();
        fresh.sort_unstable();
        let mut rest = &fresh[..];
        while let Some(&first) = rest.first() {
            let b = bucket(first);
            let n = rest.partition_point(|&m| bucket(m) == b);
            let (new, tail) = rest.split_at(n);
            rest = tail;
            let old = std::mem::take(&mut self.sorted[b]);
            let mut merged = Vec::with_capacity(old.len() + new.len());
            let (mut i, mut j) = (0, 0);
            while i < old.len() && j < new.len() {
                if old[i] < new[j] {
                    merged.push(old[i]);
                    i += 1;
                } else {
                    merged.push(new[j]);
                    j += 1;
                }
            }
            merged.extend_from_slice(&old[i..]);
            merged.extend_from_slice(&new[j..]);
            self.sorted[b] = merged.into_boxed_slice();
        }
        self.merged += fresh.len();
    }
}

/// The recent set's hasher: its keys are mixed already, so folding the high
/// bits down (hashbrown indexes by the low ones) spreads them.
#[derive(Default)]
pub(super) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        let m = self.0 ^ n;
        self.0 = m ^ (m >> 29);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_keys_are_exact_and_apart_from_hashed_ones() {
        let ids = [
            "0",
            "00",
            "A",
            "Z",
            "AC000000001",
            "AC000000010",
            "ZZZZZZZZZZZZ",
        ];
        let keys: HashSet<u64> = ids.iter().map(|id| key(id)).collect();
        assert_eq!(keys.len(), ids.len());
        assert!(ids.iter().all(|id| key(id) & PACKED != 0));
        // Too long, lower case or punctuation: hashed, top bit clear.
        for id in ["ZZZZZZZZZZZZZ", "ac000000001", "AC-1", "", "é"] {
            assert_eq!(key(id) & PACKED, 0, "{id}");
        }
        assert_ne!(key("AC000000001"), key("ac000000001"));
    }

    /// Ids whose keys share the top byte (one bucket) and ids spread over
    /// many merges: each found once, every repeat reported, whether it is in
    /// the recent set or merged.
    #[test]
    fn the_store_finds_every_repeat_across_merges() {
        let mut store = IdStore::default();
        let n = 300_000u64;
        // Packed keys of consecutive account numbers share their high bits.
        let id = |i: u64| format!("AC{i:09}");
        for i in 0..n {
            assert!(store.insert(key(&id(i))), "{i}");
            if i % 1000 == 999 {
                // A repeat of an id long merged and one still recent.
                assert!(!store.insert(key(&id(i / 7))));
                assert!(!store.insert(key(&id(i - 1))));
            }
        }
        assert_eq!(store.len(), n as usize);
        assert!(store.merged > 0 && !store.recent.is_empty());
        assert!((0..n).all(|i| store.contains(key(&id(i)))));
        assert!(!store.contains(key(&id(n))));
        // Keys that share one bucket (and their high bits), past a merge:
        // each new once, a repeat every time after.
        let mut store = IdStore::default();
        let base = 0x1234_5678_0000_0000u64;
        let same_bucket: Vec<u64> = (0..u64::MAX)
            .map(|i| base + 2 * i)
            .filter(|&k| bucket(mix(k)) == bucket(mix(base)))
            .take(MIN_RECENT + 100)
            .collect();
        assert!(same_bucket.iter().all(|&k| store.insert(k)));
        assert_eq!(store.sorted[bucket(mix(base))].len(), MIN_RECENT);
        assert!(same_bucket.iter().all(|&k| !store.insert(k)));
        assert!(same_bucket.iter().all(|&k| !store.contains(k + 1)));
        assert_eq!(store.len(), same_bucket.len());
    }

    /// The interpolating search answers as a binary search does, for
    /// buckets evenly spread or not, at every length.
    #[test]
    fn find_agrees_with_binary_search() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [0usize, 1, 2, 3, 10, 100, 5000] {
            for skew in [0u32, 40] {
                let mut keys: Vec<u64> = (0..n).map(|_| (next() >> 8 >> skew) | 7 << 56).collect();
                keys.sort_unstable();
                keys.dedup();
                for &k in &keys {
                    assert!(find(&keys, k), "{n} {skew}");
                }
                for _ in 0..2000 {
                    let probe = (next() >> 8 >> skew) | 7 << 56;
                    assert_eq!(find(&keys, probe), keys.binary_search(&probe).is_ok());
                }
            }
        }
    }
}
