//! The keyspace: string values with optional expiry times, expired lazily when touched (and
//! swept when listed or counted).

use std::collections::HashMap;

/// A value and when it expires (milliseconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub data: Vec<u8>,
    pub expire_at: Option<u64>,
}

/// One database.
#[derive(Debug, Default)]
pub struct Db {
    map: HashMap<Vec<u8>, Value>,
}

impl Db {
    /// The live value of `key` (an expired one is removed).
    pub fn get(&mut self, key: &[u8], now: u64) -> Option<&mut Value> {
        if matches!(self.map.get(key), Some(v) if v.expire_at.is_some_and(|t| t <= now)) {
            self.map.remove(key);
        }
        self.map.get_mut(key)
    }

    pub fn contains(&mut self, key: &[u8], now: u64) -> bool {
        self.get(key, now).is_some()
    }

    /// Set `key`, replacing any value and expiry.
    pub fn set(&mut self, key: &[u8], data: Vec<u8>, expire_at: Option<u64>) {
        match self.map.get_mut(key) {
            Some(v) => *v = Value { data, expire_at },
            None => {
                self.map.insert(key.to_vec(), Value { data, expire_at });
            }
        }
    }

    /// Remove `key`; whether a live value was there.
    pub fn remove(&mut self, key: &[u8], now: u64) -> bool {
        match self.map.remove(key) {
            Some(v) => !v.expire_at.is_some_and(|t| t <= now),
            None => false,
        }
    }

    /// Drop every expired key.
    pub fn sweep(&mut self, now: u64) {
        self.map.retain(|_, v| !v.expire_at.is_some_and(|t| t <= now));
    }

    /// Live keys, sorted.
    pub fn keys(&mut self, now: u64) -> Vec<&[u8]> {
        self.sweep(now);
        let mut k: Vec<&[u8]> = self.map.keys().map(Vec::as_slice).collect();
        k.sort();
        k
    }

    /// (live keys, of which with an expiry).
    pub fn counts(&mut self, now: u64) -> (usize, usize) {
        self.sweep(now);
        (self.map.len(), self.map.values().filter(|v| v.expire_at.is_some()).count())
    }

    /// Any live key.
    pub fn any_key(&mut self, now: u64) -> Option<Vec<u8>> {
        self.sweep(now);
        self.map.keys().next().cloned()
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Bytes held (roughly).
    pub fn memory(&self) -> usize {
        self.map.iter().map(|(k, v)| k.len() + v.data.len() + 64).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_lazy_and_swept() {
        let mut db = Db::default();
        db.set(b"a", b"1".to_vec(), Some(100));
        db.set(b"b", b"2".to_vec(), None);
        assert_eq!(db.get(b"a", 99).map(|v| v.data.clone()), Some(b"1".to_vec()));
        assert_eq!(db.counts(99), (2, 1));
        assert!(db.get(b"a", 100).is_none());
        db.set(b"c", b"3".to_vec(), Some(50));
        assert_eq!(db.keys(60), vec![&b"b"[..]]);
        assert!(!db.remove(b"zz", 0));
        assert!(db.remove(b"b", 0));
        assert_eq!(db.counts(0), (0, 0));
    }
}
