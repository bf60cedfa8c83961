//! The `harness` binary: all of it is the library's command line (`harness::cli`).

fn main() -> std::process::ExitCode {
    harness::cli::main()
}
