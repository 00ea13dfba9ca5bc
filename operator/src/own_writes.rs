//! The Secrets this operator just wrote, by resourceVersion, so the watch
//! event of its own write does not start another reconcile of the same
//! server: a reconcile that just wrote them has nothing left to do. Any
//! other change (a user editing or deleting the Secret) has another
//! resourceVersion and still triggers one. While a write is in flight its
//! resourceVersion is not known yet (the watch event can come before the
//! answer), so events of that Secret are taken as the write's own: a foreign
//! change in those few milliseconds is repaired by the next event or resync.

use std::{collections::HashMap, sync::Mutex};

/// Entries kept at most; beyond, the map starts over (a missed filter only costs a reconcile).
const MAX_ENTRIES: usize = 200_000;

#[derive(Debug, Default)]
pub struct OwnWrites(Mutex<HashMap<(String, String), Option<String>>>);

impl OwnWrites {
    /// The operator is about to write `namespace/name`.
    pub fn writing(&self, namespace: &str, name: &str) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let key = (namespace.to_owned(), name.to_owned());
        if map.len() >= MAX_ENTRIES && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(key, None);
    }

    /// The operator wrote `namespace/name`, which now has `resource_version`.
    pub fn wrote(&self, namespace: &str, name: &str, resource_version: Option<&str>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let key = (namespace.to_owned(), name.to_owned());
        match resource_version {
            Some(rv) => {
                if map.len() >= MAX_ENTRIES && !map.contains_key(&key) {
                    map.clear();
                }
                map.insert(key, Some(rv.to_owned()));
            }
            None => {
                map.remove(&key);
            }
        }
    }

    /// True when `namespace/name` at `resource_version` is the operator's own
    /// last write, or a write of it is in flight.
    pub fn is_own(&self, namespace: &str, name: &str, resource_version: Option<&str>) -> bool {
        let Some(rv) = resource_version else { return false };
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&(namespace.to_owned(), name.to_owned())) {
            Some(Some(own)) => own == rv,
            Some(None) => true,
            None => false,
        }
    }

    /// The Secret is gone (or no longer the operator's to track).
    pub fn forget(&self, namespace: &str, name: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&(namespace.to_owned(), name.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_own_write_is_recognised() {
        let own = OwnWrites::default();
        own.wrote("ns", "a", Some("10"));
        assert!(own.is_own("ns", "a", Some("10")));
        assert!(!own.is_own("ns", "a", Some("11")), "someone else's later change");
        assert!(!own.is_own("ns", "a", None));
        assert!(!own.is_own("other", "a", Some("10")));
        own.forget("ns", "a");
        assert!(!own.is_own("ns", "a", Some("10")));
        own.wrote("ns", "b", Some("3"));
        own.wrote("ns", "b", None);
        assert!(!own.is_own("ns", "b", Some("3")));
        // In flight: the event may come before the answer.
        own.writing("ns", "c");
        assert!(own.is_own("ns", "c", Some("5")));
        own.wrote("ns", "c", Some("5"));
        assert!(own.is_own("ns", "c", Some("5")) && !own.is_own("ns", "c", Some("6")));
    }
}
