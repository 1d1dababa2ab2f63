//! The allocator's side of the server's memory: what is freed goes back to the
//! system, so a burst (sign-ins, many sessions at once) does not stay in RSS.

/// Blocks of a MiB and more (a password hash takes 19 MiB) go back to the system
/// when freed. Left to itself glibc raises this threshold to the size of the first
/// such block freed, and keeps every later one in its per-thread heaps: a burst
/// of sign-ins then holds hundreds of MiB for good. Called first thing in `main`.
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: sets a malloc tunable before any other thread is started.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Returns the free pages of the allocator's heaps to the system: called when
/// sandboxes stop, which frees many small pieces at once.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory that is free.
    unsafe {
        nix::libc::malloc_trim(0);
    }
}
