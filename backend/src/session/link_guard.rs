//! The session's link while one command (or a backend job) holds it.

use std::sync::atomic::Ordering;

use super::{SandboxLink, Session};

/// The session's link, held for one command (or a backend job); keeps the
/// lock-free pid current when the sandbox is replaced.
pub struct LinkGuard<'a> {
    pub(super) guard: tokio::sync::MutexGuard<'a, SandboxLink>,
    pub(super) session: &'a Session,
}

impl std::ops::Deref for LinkGuard<'_> {
    type Target = SandboxLink;
    fn deref(&self) -> &SandboxLink {
        &self.guard
    }
}

impl std::ops::DerefMut for LinkGuard<'_> {
    fn deref_mut(&mut self) -> &mut SandboxLink {
        &mut self.guard
    }
}

impl Drop for LinkGuard<'_> {
    fn drop(&mut self) {
        self.session
            .pid
            .store(self.guard.sandbox().pid(), Ordering::Release);
    }
}
