//! The two secrets this browser keeps in localStorage: the learner token
//! (who the learner is) and the console's session id (their sandbox). A
//! leaf: the connection, the HTTP calls and the identity code all read
//! them here, so none of them needs another to find them.

use gloo::storage::{LocalStorage, Storage};

const TOKEN_KEY: &str = "redis-tutor.learner";
const SESSION_KEY: &str = "redis-tutor.session";

pub fn token() -> Option<String> {
    LocalStorage::get::<String>(TOKEN_KEY)
        .ok()
        .filter(|t| !t.is_empty())
}

pub fn set_token(token: &str) {
    let _ = LocalStorage::set(TOKEN_KEY, token);
}

pub fn clear_token() {
    LocalStorage::delete(TOKEN_KEY);
}

/// The console's session id, once it has one.
pub fn session_id() -> Option<String> {
    LocalStorage::get::<String>(SESSION_KEY).ok()
}

pub fn set_session_id(session: &str) {
    let _ = LocalStorage::set(SESSION_KEY, session);
}

/// Drops the stored session id, so the next connection asks for a session
/// as the current learner (after a continue link or "Forget me").
pub fn forget_session() {
    LocalStorage::delete(SESSION_KEY);
}
