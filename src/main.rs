use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    // ssh runs idp as its SSH_ASKPASS to unlock IDP_SSH_KEY (see state::transport).
    if let Some(answer) = idp::state::ssh_askpass() {
        return match answer.map(|passphrase| writeln!(std::io::stdout(), "{passphrase}")) {
            Some(Ok(())) => ExitCode::SUCCESS,
            _ => ExitCode::FAILURE,
        };
    }
    idp::run()
}
