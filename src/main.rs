use std::process::ExitCode;

use clap::CommandFactory as _;

fn main() -> ExitCode {
    let matches = streamscope::cli::Cli::command().get_matches();
    match streamscope::run(&matches) {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`report | head`) is not an error worth a message.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("streamscope: {e:#}");
            ExitCode::FAILURE
        }
    }
}
