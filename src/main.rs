//! The `arrears` binary: the allocator and `cli::main`, nothing else.

/// mimalloc: `batch` allocates small values on every core; glibc's allocator
/// spent about a fifth of the batch's time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    arrears::cli::main()
}
