//! Entry point of the instructor's app (`/instructor`, `/projector`):
//! panic hook, then mount it.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(frontend::InstructorApp);
}
