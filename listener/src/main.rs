//! The `listener` binary: its command line is the library's (`listener::cli`).

fn main() -> std::process::ExitCode {
    listener::cli::main()
}
