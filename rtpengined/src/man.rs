//! Manual pages, made when the packages are built (`rtpengine-rs-mangen`, run by
//! scripts/build-packages) so they always describe the binary they ship with:
//!   rtpengined(8)          from the clap definition that also prints `--help`
//!   rtpengine-rs-setup(8)  from the comment block at the top of that script, which
//!                          is its documentation; the script's usage line and its
//!                          settings list are checked against it (`setup_page`).

use clap_mangen::Man;
use roff::{bold, italic, roman, Inline, Roff};

use crate::config::Cli;

/// The daemon's version, for the pages' footer.
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn source() -> String {
    format!("rtpengine-rs {VERSION}")
}

fn section(roff: &mut Roff, title: &str, paragraphs: &[&[Inline]]) {
    roff.control("SH", [title]);
    for (i, p) in paragraphs.iter().enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        roff.text(p.to_vec());
    }
}

/// rtpengined(8), dated `date` (the footer's date: the packages use the last commit's).
pub fn daemon_page(date: &str) -> Vec<u8> {
    let cmd = Cli::command_with_notes()
        .override_usage("rtpengined [OPTIONS]")
        .long_about(
            "rtpengined relays the media (RTP, RTCP, SRTP, DTLS, ICE) of calls set up by a SIP \
         proxy such as Kamailio or OpenSIPS, which controls it over the ng protocol. It \
         rewrites the SDP of offers and answers so that media flows through it, and hands \
         established streams to the xt_RTPENGINE kernel module when that is loaded. It is a \
         drop-in replacement for rtpengine 10.5: its command line and config file take the \
         same options. Options marked as not implemented are accepted so that existing \
         configurations still start; the daemon logs a warning for each one given and \
         otherwise ignores it.",
        );
    let man = Man::new(cmd)
        .title("RTPENGINED")
        .section("8")
        .date(date)
        .source(source())
        .manual("System Administration");
    let mut out = Vec::new();
    man.render(&mut out).expect("writing to a Vec cannot fail");
    let mut roff = Roff::new();
    section(
        &mut roff,
        "CONFIGURATION FILE",
        &[&[roman(
            "Every long option can also be set in an INI file (--config-file), as a key \
             of the section given by --config-section, without the leading dashes: \
             \"port-min = 30000\". Options taking several values separate them with \";\". \
             Flags take true, yes, 1 or on. A value given on the command line wins over \
             the file's.",
        )]],
    );
    section(
        &mut roff,
        "FILES",
        &[
            &[
                bold("/etc/rtpengine-rs/rtpengined.conf"),
                roman(": the configuration file of the packaged service."),
            ],
            &[
                bold("/etc/default/rtpengine-rs"),
                roman(": settings of the service and of rtpengine-rs-setup; "),
                bold("RTPENGINED_OPTS"),
                roman(" adds options to the daemon's command line."),
            ],
        ],
    );
    section(
        &mut roff,
        "SEE ALSO",
        &[&[
            bold("rtpengine-rs-setup"),
            roman("(8), "),
            bold("rtpengine-ctl"),
            roman("(8), "),
            bold("iptables"),
            roman("(8)"),
        ]],
    );
    // Every rendering starts with the same preamble (an empty page is just that);
    // the page has it already.
    let preamble = Roff::new().render();
    let extra = roff.render();
    out.extend_from_slice(extra.strip_prefix(&preamble).unwrap_or(&extra).as_bytes());
    out
}

/// The parts of rtpengine-rs-setup's header comment.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SetupDoc {
    /// The first line: what the script is.
    pub summary: String,
    /// Actions (first argument) with their descriptions.
    pub actions: Vec<(String, String)>,
    /// Paragraphs of free text after the actions.
    pub paragraphs: Vec<String>,
    /// Paragraphs of free text about the settings.
    pub settings_text: Vec<String>,
    /// Settings (shell variables) with their descriptions.
    pub settings: Vec<(String, String)>,
}

/// Reads the header comment of scripts/rtpengine-rs-setup: the comment lines after the
/// shebang and SPDX line. A line indented by two spaces, `  WORD  text`, starts an
/// item, deeper-indented lines continue it; the items before the paragraph that
/// mentions "Settings" are actions, those after it settings; other lines are text.
pub fn parse_setup_header(script: &str) -> Result<SetupDoc, String> {
    let mut doc = SetupDoc::default();
    let mut in_settings = false;
    // Which list the last item went to, for continuation lines.
    let mut last_item: Option<bool> = None;
    let mut para = String::new();
    let lines = script
        .lines()
        .skip_while(|l| l.starts_with("#!") || l.starts_with("# SPDX"))
        .take_while(|l| l.starts_with('#'));
    let flush = |para: &mut String, doc: &mut SetupDoc| {
        if para.starts_with("Settings") {
            doc.settings_text.push(std::mem::take(para));
        } else if !para.is_empty() {
            doc.paragraphs.push(std::mem::take(para));
        }
    };
    for line in lines {
        let text = line.trim_start_matches('#');
        let text = text.strip_prefix(' ').unwrap_or(text);
        if text.trim().is_empty() {
            flush(&mut para, &mut doc);
            last_item = None;
            continue;
        }
        let indent = text.len() - text.trim_start().len();
        if indent == 2 {
            flush(&mut para, &mut doc);
            let body = text.trim_start();
            let (word, rest) = body
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("item without a description: {body:?}"))?;
            let item = (word.to_owned(), rest.trim().to_owned());
            if in_settings {
                doc.settings.push(item);
            } else {
                doc.actions.push(item);
            }
            last_item = Some(in_settings);
        } else if indent > 2 {
            let list = match last_item {
                Some(true) => &mut doc.settings,
                Some(false) => &mut doc.actions,
                None => return Err(format!("continuation line without an item: {text:?}")),
            };
            let desc = &mut list.last_mut().expect("an item was pushed").1;
            desc.push(' ');
            desc.push_str(text.trim());
        } else {
            last_item = None;
            if doc.summary.is_empty() {
                doc.summary = text.trim().trim_end_matches(':').to_owned();
                continue;
            }
            if text.starts_with("Settings") {
                in_settings = true;
            }
            if !para.is_empty() {
                para.push(' ');
            }
            para.push_str(text.trim());
        }
    }
    flush(&mut para, &mut doc);
    if doc.summary.is_empty() || doc.actions.is_empty() || doc.settings.is_empty() {
        return Err("no summary, actions or settings in the header comment".into());
    }
    Ok(doc)
}

/// The actions in the script's usage message (`usage: rtpengine-rs-setup a|b|c`) and
/// the names in its `settings="..."` list: what the code accepts, to check the header
/// against.
fn setup_code_lists(script: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let usage = script
        .lines()
        .find_map(|l| l.split_once("usage: rtpengine-rs-setup ").map(|(_, u)| u))
        .ok_or("no usage line in the script")?;
    let usage = usage.split(['"', '\'']).next().unwrap_or(usage);
    let actions = usage.trim().split('|').map(str::to_owned).collect();
    let settings = script
        .lines()
        .find_map(|l| l.strip_prefix("settings=\""))
        .ok_or("no settings=\"...\" line in the script")?;
    let settings = settings
        .trim_end_matches('"')
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    Ok((actions, settings))
}

/// rtpengine-rs-setup(8) from the script's text. Fails if the header comment does not
/// document exactly the actions and settings the script's code handles.
pub fn setup_page(script: &str, date: &str) -> Result<Vec<u8>, String> {
    let doc = parse_setup_header(script)?;
    let (actions, settings) = setup_code_lists(script)?;
    let names = |v: &[(String, String)]| {
        let mut n: Vec<String> = v.iter().map(|(k, _)| k.clone()).collect();
        n.sort();
        n
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    if names(&doc.actions) != sorted(actions.clone()) {
        return Err(format!(
            "the header documents actions {:?}, the usage line has {actions:?}",
            names(&doc.actions)
        ));
    }
    if names(&doc.settings) != sorted(settings.clone()) {
        return Err(format!(
            "the header documents settings {:?}, the script reads {settings:?}",
            names(&doc.settings)
        ));
    }
    let mut roff = Roff::new();
    roff.control(
        "TH",
        [
            "RTPENGINE-RS-SETUP",
            "8",
            date,
            &source(),
            "System Administration",
        ],
    );
    roff.control("SH", ["NAME"]);
    roff.text([roman(format!("rtpengine-rs-setup - {}", doc.summary))]);
    roff.control("SH", ["SYNOPSIS"]);
    roff.text([
        bold("rtpengine-rs-setup"),
        roman(" "),
        italic(actions.join("|")),
    ]);
    roff.control("SH", ["DESCRIPTION"]);
    roff.text([roman(format!(
        "{}. The packaged rtpengined.service runs it with start before the daemon \
         (ExecStartPre) and with stop-post after it (ExecStopPost).",
        doc.summary
    ))]);
    roff.control("SH", ["ACTIONS"]);
    for (name, desc) in &doc.actions {
        roff.control("TP", []);
        roff.text([bold(name.as_str())]);
        roff.text([roman(desc.as_str())]);
    }
    for p in &doc.paragraphs {
        roff.control("PP", []);
        roff.text([roman(p.as_str())]);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for p in &doc.settings_text {
        roff.text([roman(p.as_str())]);
    }
    for (name, desc) in &doc.settings {
        roff.control("TP", []);
        roff.text([bold(name.as_str())]);
        roff.text([roman(desc.as_str())]);
    }
    section(
        &mut roff,
        "FILES",
        &[&[
            bold("/etc/default/rtpengine-rs"),
            roman(": the settings above, as shell variable assignments."),
        ]],
    );
    section(
        &mut roff,
        "SEE ALSO",
        &[&[
            bold("rtpengined"),
            roman("(8), "),
            bold("iptables"),
            roman("(8), "),
            bold("modprobe"),
            roman("(8)"),
        ]],
    );
    Ok(roff.render().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETUP: &str = include_str!("../../scripts/rtpengine-rs-setup");

    fn text(page: &[u8]) -> String {
        String::from_utf8(page.to_vec()).unwrap()
    }

    /// An option as the page spells it: roff escapes each `-`.
    fn roff_long(long: &str) -> String {
        format!("\\fB--{long}\\fR").replace('-', "\\-")
    }

    #[test]
    fn daemon_page_lists_every_option() {
        let page = text(&daemon_page("2026-01-01"));
        let cmd = Cli::command_with_notes();
        let mut missing = Vec::new();
        for arg in cmd.get_arguments() {
            let long = arg.get_long().expect("every option has a long form");
            if !page.contains(&roff_long(long)) {
                missing.push(long);
            }
            if let Some(short) = arg.get_short() {
                assert!(page.contains(&format!("\\fB\\-{short}\\fR")), "-{short}");
            }
        }
        assert!(missing.is_empty(), "not in rtpengined.8: {missing:?}");
        for heading in [
            crate::config::cli::HELP_OPTIONS,
            crate::config::cli::APPLICATION_OPTIONS,
            crate::config::cli::OUR_OPTIONS,
        ] {
            assert!(page.contains(&heading.to_uppercase()), "{heading}");
        }
        assert!(page.contains("\n.TH RTPENGINED 8 2026-01-01 "), "{page}");
        assert_eq!(
            page.matches(".ds Aq").count(),
            Roff::new().render().matches(".ds Aq").count()
        );
    }

    #[test]
    fn daemon_page_marks_unimplemented_options() {
        let page = text(&daemon_page("2026-01-01"));
        let note = crate::config::cli::NOT_IMPLEMENTED_NOTE.replace('-', "\\-");
        // --mqtt-host has no implementation, --port-min has.
        let entry = |long: &str| {
            let start = page.find(&roff_long(long)).unwrap();
            let rest = &page[start..];
            rest[..rest[1..].find(".TP").map_or(rest.len(), |e| e + 1)].to_owned()
        };
        assert!(entry("mqtt-host").contains(&note), "{}", entry("mqtt-host"));
        assert!(!entry("port-min").contains(&note), "{}", entry("port-min"));
    }

    #[test]
    fn setup_header_parses_into_actions_and_settings() {
        let doc = parse_setup_header(SETUP).unwrap();
        let actions: Vec<&str> = doc.actions.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(actions, ["start", "stop", "keep", "stop-post", "status"]);
        let (_, stop_post) = &doc.actions[3];
        assert!(stop_post.contains("ExecStopPost") && stop_post.contains("--kernel-adopt"));
        assert!(doc
            .settings
            .iter()
            .any(|(s, d)| s == "TABLE" && !d.is_empty()));
        assert!(doc.summary.starts_with("Kernel forwarding setup"));
    }

    #[test]
    fn setup_page_documents_every_action_and_setting() {
        let page = text(&setup_page(SETUP, "2026-01-01").unwrap());
        let (actions, settings) = setup_code_lists(SETUP).unwrap();
        for name in actions.iter().chain(&settings) {
            let b = format!("\\fB{}\\fR", name.replace('-', "\\-"));
            assert!(page.contains(&b), "{name} not in rtpengine-rs-setup.8");
        }
    }

    #[test]
    fn setup_page_refuses_a_header_that_misses_an_action() {
        // An action the code handles but the header does not describe.
        let script = SETUP.replace(
            "start|stop|stop-post|keep|status",
            "start|stop|stop-post|keep|status|reload",
        );
        let e = setup_page(&script, "2026-01-01").unwrap_err();
        assert!(e.contains("reload"), "{e}");
        let script = SETUP.replace(
            "PROC_MASK MANAGE_IPTABLES",
            "PROC_MASK NEW_SETTING MANAGE_IPTABLES",
        );
        let e = setup_page(&script, "2026-01-01").unwrap_err();
        assert!(e.contains("NEW_SETTING"), "{e}");
    }
}
