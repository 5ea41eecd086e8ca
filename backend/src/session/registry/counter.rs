//! A count per key (a client address, a session id) held by RAII guards:
//! the count goes down when the guard drops, however its holder ends.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

pub struct Counter<K: Eq + Hash + Clone> {
    counts: Arc<Mutex<HashMap<K, usize>>>,
}

/// One unit of a `Counter`, released on drop.
pub struct CountGuard<K: Eq + Hash + Clone> {
    counts: Arc<Mutex<HashMap<K, usize>>>,
    key: K,
}

impl<K: Eq + Hash + Clone> Default for Counter<K> {
    fn default() -> Self {
        Counter {
            counts: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl<K: Eq + Hash + Clone> Counter<K> {
    pub fn get(&self, key: &K) -> usize {
        self.counts
            .lock()
            .map(|c| c.get(key).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    pub fn enter(&self, key: K) -> CountGuard<K> {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(key.clone()).or_default() += 1;
        }
        CountGuard {
            counts: self.counts.clone(),
            key,
        }
    }
}

impl<K: Eq + Hash + Clone> Drop for CountGuard<K> {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.lock() {
            if let Some(n) = counts.get_mut(&self.key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.remove(&self.key);
                }
            }
        }
    }
}
