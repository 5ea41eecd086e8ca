//! What the instructor's browser keeps: the instructor key in
//! sessionStorage (gone with the tab, and never left in the address bar)
//! and the current room in localStorage. The room's code and join link are
//! read from the server (`GET /api/rooms/{id}`), so nothing else is kept.

use gloo::storage::{LocalStorage, SessionStorage, Storage};

const KEY_KEY: &str = "redis-tutor.instructor";
const ROOM_KEY: &str = "redis-tutor.instructor-room";

/// A stored string, whether written by this app (as JSON) or by hand (as
/// is, in a browser test or the devtools).
fn lenient(raw: Option<String>) -> Option<String> {
    let raw = raw?;
    let value = serde_json::from_str::<String>(&raw).unwrap_or(raw);
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// On `<path>#<key>` (the link the server printed): keeps the key for this
/// tab and strips it from the address bar, so it is neither bookmarked nor
/// shared by accident. The query (`?room=`) stays.
pub fn adopt_key_from_location() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let fragment = location.hash().unwrap_or_default();
    let Some(key) = crate::identity::token_in_fragment(&fragment) else {
        return;
    };
    let _ = SessionStorage::set(KEY_KEY, key);
    let path = location.pathname().unwrap_or_default();
    let search = location.search().unwrap_or_default();
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}{search}")),
        );
    }
}

/// The instructor key of this tab, if it has one.
pub fn key() -> Option<String> {
    lenient(SessionStorage::raw().get_item(KEY_KEY).ok().flatten())
}

/// The room to show: `?room=` if given, else the one this browser last used.
pub fn room(from_query: Option<String>) -> Option<String> {
    lenient(from_query).or_else(|| lenient(LocalStorage::raw().get_item(ROOM_KEY).ok().flatten()))
}

/// Makes `room` this browser's current room.
pub fn set_room(room: &str) {
    let _ = LocalStorage::set(ROOM_KEY, room);
}

/// The room ended: forget it as the current one.
pub fn forget_room() {
    LocalStorage::delete(ROOM_KEY);
}

#[cfg(test)]
mod tests {
    use super::lenient;

    #[test]
    fn a_stored_value_reads_as_json_or_as_typed() {
        assert_eq!(lenient(Some("\"abc\"".into())), Some("abc".into()));
        assert_eq!(lenient(Some("abc".into())), Some("abc".into()));
    }

    #[test]
    fn an_empty_stored_value_is_none() {
        assert_eq!(lenient(Some("\"\"".into())), None);
        assert_eq!(lenient(Some("  ".into())), None);
        assert_eq!(lenient(None), None);
    }
}
