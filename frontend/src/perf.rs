//! Page-load milestones as Performance API marks (`performance.mark`): the
//! browser benchmark (backend/tests/it/browser_bench.rs) reads them, and so
//! does any browser's performance panel. Each is marked once per page load,
//! the first time it happens; its time is from the navigation's start.

/// The app's wasm is compiled and running (the first line of `main`).
pub const APP_STARTED: &str = "app-started";
/// A lesson's text is on screen.
pub const LESSON_SHOWN: &str = "lesson-shown";
/// The console accepts input: its sandbox session answered on the socket.
pub const CONSOLE_READY: &str = "console-ready";

/// Marks `name` now, unless this page marked it already.
pub fn mark_once(name: &str) {
    let Some(performance) = web_sys::window().and_then(|w| w.performance()) else {
        return;
    };
    if performance
        .get_entries_by_name_with_entry_type(name, "mark")
        .length()
        == 0
    {
        let _ = performance.mark(name);
    }
}
