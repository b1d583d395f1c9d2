use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = streamscope::cli::Cli::parse();
    match streamscope::run(cli) {
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
