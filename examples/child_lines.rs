//! Runs a child process and streams its output line by line, as it comes.
//!
//! ```text
//! cargo run --example child_lines                         # a small shell loop
//! cargo run --example child_lines -- ping -c 3 127.0.0.1  # or any command
//! ```
//!
//! Each line the child writes to its stdout is printed with its number as
//! soon as the child writes it, not when the child exits; its stderr goes to
//! ours. The example exits with the child's exit code; on Ctrl-C (SIGINT)
//! it kills the child, reaps it, and exits with 130.
//!
//! The integration tests run this file's `stream_lines` as it is.

use ember::io::{AsyncBufReadExt, AsyncRead, BufReader};
use ember::process::{Command, Stdio};
use ember::signal::ctrl_c;
use futures_util::future::{select, Either};
use std::io;
use std::pin::pin;

#[ember::main]
async fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut command = match args.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(args);
            command
        }
        None => {
            let mut command = Command::new("sh");
            command.args(["-c", "for i in 1 2 3; do echo \"tick $i\"; sleep 1; done"]);
            command
        }
    };
    // Killed if this function returns early with an error.
    let mut child = command.stdout(Stdio::piped()).kill_on_drop(true).spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("stdout was not piped"))?;

    let lines = pin!(stream_lines(stdout, |number, line| {
        println!("{number:>4} | {line}");
    }));
    let code = match select(lines, pin!(ctrl_c())).await {
        Either::Left((lines, _)) => {
            lines?;
            // The output ended: the child has exited, or is about to.
            let status = child.wait().await?;
            eprintln!("child_lines: the child exited with {status}");
            status.code().unwrap_or(1)
        }
        Either::Right((signal, _)) => {
            signal?;
            child.kill().await?;
            eprintln!("child_lines: interrupted; the child was killed");
            130
        }
    };
    std::process::exit(code)
}

/// Reads `output` to its end, calling `on_line` with the number (from 1)
/// and the text (without its line ending) of every line as soon as it is
/// complete; a last line without a newline counts too. Returns how many
/// lines there were.
///
/// Cancel safe in the sense that matters here: dropping it loses only the
/// partial line it holds.
pub(crate) async fn stream_lines(
    output: impl AsyncRead + Unpin,
    mut on_line: impl FnMut(usize, &str),
) -> io::Result<usize> {
    let mut reader = BufReader::new(output);
    let mut line = String::new();
    let mut number = 0;
    // `read_line` returns 0 at end-of-file: the child closed its stdout.
    while reader.read_line(&mut line).await? != 0 {
        number += 1;
        on_line(number, line.trim_end_matches(['\n', '\r']));
        line.clear();
    }
    Ok(number)
}
