//! The terminal, always restored: [`TerminalGuard`] enters raw mode, the alternate screen
//! and mouse capture, and leaves them all on drop and from a panic hook, so neither an
//! early return, an error nor a panic leaves the user's shell in raw mode.

use std::io::{self, Write};

use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use ratatui::DefaultTerminal;

/// Owns the terminal while the inspector runs.
pub struct TerminalGuard {
    terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Takes over the terminal: raw mode, alternate screen, mouse capture, and a panic hook
    /// that gives it back before the panic message is printed.
    pub fn enter() -> io::Result<Self> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        // `try_init` adds ratatui's own restoring hook in front of ours.
        let terminal = match ratatui::try_init() {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        if let Err(e) = execute!(io::stdout(), EnableMouseCapture) {
            restore();
            return Err(e);
        }
        Ok(Self { terminal })
    }

    /// The terminal to draw on.
    pub fn terminal(&mut self) -> &mut DefaultTerminal {
        &mut self.terminal
    }

    /// Writes raw bytes (an OSC 52 sequence) to the terminal between frames.
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Gives the terminal back: mouse capture off, cursor shown, raw mode off, main screen.
/// Safe to call more than once.
pub fn restore() {
    let _ = execute!(io::stdout(), DisableMouseCapture, Show);
    let _ = ratatui::try_restore();
}
