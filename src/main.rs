fn main() -> std::process::ExitCode {
    idp::run()
}
