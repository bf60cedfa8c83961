fn main() -> std::process::ExitCode {
    talker::cli::main()
}
