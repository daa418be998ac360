//! Writes the manual pages rtpengined.8 and rtpengine-rs-setup.8 (see `rtpengined::man`).
//! Run by scripts/build-packages; not installed.
//!
//! Usage: rtpengine-rs-mangen SETUP_SCRIPT OUT_DIR DATE
//!   SETUP_SCRIPT  scripts/rtpengine-rs-setup, whose header comment documents it
//!   DATE          the pages' date (the packages use the last commit's, YYYY-MM-DD)

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [script, out, date] = args.as_slice() else {
        eprintln!("usage: rtpengine-rs-mangen SETUP_SCRIPT OUT_DIR DATE");
        return ExitCode::from(2);
    };
    let run = || -> Result<(), String> {
        let text = std::fs::read_to_string(script).map_err(|e| format!("{script}: {e}"))?;
        let setup =
            rtpengined::man::setup_page(&text, date).map_err(|e| format!("{script}: {e}"))?;
        let out = std::path::Path::new(out);
        for (name, page) in [
            ("rtpengined.8", rtpengined::man::daemon_page(date)),
            ("rtpengine-rs-setup.8", setup),
        ] {
            let path = out.join(name);
            std::fs::write(&path, page).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rtpengine-rs-mangen: {e}");
            ExitCode::FAILURE
        }
    }
}
