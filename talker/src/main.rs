//! The `talker` binary: its command line is the library's (`talker::cli`).

fn main() -> std::process::ExitCode {
    talker::cli::main()
}
