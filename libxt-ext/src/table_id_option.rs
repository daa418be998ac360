//! The `--id <n>` option: parsing its argument and the texts iptables shows for it.
//! Plain Rust, no FFI, so every rule here is unit-tested.

use core::fmt;
use rtpengine_core::abi::MAX_TABLES;

/// Highest table number the kernel module accepts (its checkentry rejects the rest).
pub const MAX_TABLE_ID: u32 = MAX_TABLES - 1;

/// Printed by `iptables -j RTPENGINE --help`.
pub const HELP_TEXT: &str = "\
RTPENGINE target options:
  --id <n>    rtpengine kernel table number (/proc/rtpengine/<n>), 0 to 63;
              mandatory
";

/// What 10.5 says when the rule has no `--id`; scripts may match on it.
pub const MISSING_ID_MESSAGE: &str = "You must specify --id";

/// Why an `--id` argument was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableIdError {
    Empty,
    NotANumber(String),
    OutOfRange(String),
}

impl fmt::Display for TableIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(
                f,
                "RTPENGINE: --id needs a table number from 0 to {MAX_TABLE_ID}"
            ),
            Self::NotANumber(arg) => write!(
                f,
                "RTPENGINE: invalid --id \"{arg}\": expected a decimal table number from 0 to {MAX_TABLE_ID}"
            ),
            Self::OutOfRange(arg) => write!(
                f,
                "RTPENGINE: invalid --id \"{arg}\": table number must be from 0 to {MAX_TABLE_ID}"
            ),
        }
    }
}

/// Parses the argument of `--id`: plain decimal digits, value 0..=MAX_TABLE_ID.
/// Signs, spaces and hex are refused so that what `iptables -S` prints is what was typed.
pub fn parse_table_id(arg: &str) -> Result<u32, TableIdError> {
    if arg.is_empty() {
        return Err(TableIdError::Empty);
    }
    if !arg.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TableIdError::NotANumber(arg.to_owned()));
    }
    // All digits, so the only possible failure is overflow: out of range as well.
    match arg.parse::<u32>() {
        Ok(id) if id <= MAX_TABLE_ID => Ok(id),
        _ => Err(TableIdError::OutOfRange(arg.to_owned())),
    }
}

/// What `iptables -L` shows after the target name (10.5: `" RTPENGINE id:%u"`).
pub fn print_text(id: u32) -> String {
    format!(" RTPENGINE id:{id}")
}

/// What `iptables -S` / `iptables-save` print, parseable again by `parse_table_id`.
pub fn save_text(id: u32) -> String {
    format!(" --id {id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_whole_range() {
        assert_eq!(parse_table_id("0"), Ok(0));
        assert_eq!(parse_table_id("1"), Ok(1));
        assert_eq!(parse_table_id("63"), Ok(63));
        assert_eq!(parse_table_id("007"), Ok(7));
        for id in 0..=MAX_TABLE_ID {
            assert_eq!(parse_table_id(&id.to_string()), Ok(id));
        }
    }

    #[test]
    fn refuses_ids_past_the_module_limit() {
        assert_eq!(MAX_TABLE_ID, 63);
        for arg in [
            "64",
            "99",
            "4294967295",
            "4294967296",
            "99999999999999999999999",
        ] {
            assert_eq!(
                parse_table_id(arg),
                Err(TableIdError::OutOfRange(arg.into())),
                "{arg}"
            );
        }
    }

    #[test]
    fn refuses_non_decimal_text() {
        for arg in ["-1", "+5", " 5", "5 ", "abc", "0x3", "1.0", "٣", "5\n"] {
            assert_eq!(
                parse_table_id(arg),
                Err(TableIdError::NotANumber(arg.into())),
                "{arg:?}"
            );
        }
        assert_eq!(parse_table_id(""), Err(TableIdError::Empty));
    }

    #[test]
    fn error_messages_name_the_argument_and_the_valid_range() {
        let msg = parse_table_id("64").unwrap_err().to_string();
        assert_eq!(
            msg,
            "RTPENGINE: invalid --id \"64\": table number must be from 0 to 63"
        );
        let msg = parse_table_id("abc").unwrap_err().to_string();
        assert!(msg.contains("\"abc\"") && msg.contains("0 to 63"), "{msg}");
        let msg = parse_table_id("").unwrap_err().to_string();
        assert!(msg.contains("--id") && msg.contains("0 to 63"), "{msg}");
    }

    #[test]
    fn print_and_save_texts() {
        assert_eq!(print_text(0), " RTPENGINE id:0");
        assert_eq!(print_text(42), " RTPENGINE id:42");
        assert_eq!(save_text(0), " --id 0");
        assert_eq!(save_text(63), " --id 63");
    }

    #[test]
    fn saved_text_parses_back_to_the_same_id() {
        for id in 0..=MAX_TABLE_ID {
            let saved = save_text(id);
            let arg = saved
                .strip_prefix(" --id ")
                .expect("save text starts with --id");
            assert_eq!(parse_table_id(arg), Ok(id));
        }
    }

    #[test]
    fn help_mentions_the_option_and_range() {
        assert!(HELP_TEXT.starts_with("RTPENGINE target options:"));
        assert!(HELP_TEXT.contains("--id <n>") && HELP_TEXT.contains("0 to 63"));
    }
}
