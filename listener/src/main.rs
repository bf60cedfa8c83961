fn main() -> std::process::ExitCode {
    listener::cli::main()
}
