//! ng commands: the `command` key mapped to a typed request.

use super::bencode::Value;
use super::flags::Flags;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    Ping,
    Offer,
    Answer,
    Delete,
    Query,
    List,
    StartRecording,
    StopRecording,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommandError {
    #[error("Dictionary contains no key \"command\"")]
    Missing,
    #[error("Unrecognized command")]
    Unknown(String),
    /// A command rtpengine 10.5 has but we do not implement yet.
    #[error("Unsupported command '{0}'")]
    Unsupported(String),
}

/// Commands of rtpengine 10.5 we recognise but do not implement yet.
const UNSUPPORTED: &[&str] = &[
    "statistics",
    "pause recording",
    "block DTMF",
    "unblock DTMF",
    "block media",
    "unblock media",
    "silence media",
    "unsilence media",
    "start forwarding",
    "stop forwarding",
    "play media",
    "stop media",
    "play DTMF",
    "publish",
    "subscribe request",
    "subscribe answer",
    "unsubscribe",
    "connect",
];

impl CommandKind {
    pub fn from_name(name: &str) -> Result<CommandKind, CommandError> {
        Ok(match name {
            "ping" => CommandKind::Ping,
            "offer" => CommandKind::Offer,
            "answer" => CommandKind::Answer,
            "delete" => CommandKind::Delete,
            "query" => CommandKind::Query,
            "list" => CommandKind::List,
            "start recording" => CommandKind::StartRecording,
            "stop recording" => CommandKind::StopRecording,
            n if UNSUPPORTED.contains(&n) => return Err(CommandError::Unsupported(n.to_owned())),
            n => return Err(CommandError::Unknown(n.to_owned())),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            CommandKind::Ping => "ping",
            CommandKind::Offer => "offer",
            CommandKind::Answer => "answer",
            CommandKind::Delete => "delete",
            CommandKind::Query => "query",
            CommandKind::List => "list",
            CommandKind::StartRecording => "start recording",
            CommandKind::StopRecording => "stop recording",
        }
    }
}

/// A decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub kind: CommandKind,
    pub flags: Flags,
}

impl Request {
    pub fn parse(msg: &Value<'_>) -> Result<Request, CommandError> {
        let name = msg
            .get("command")
            .and_then(|c| c.as_text())
            .ok_or(CommandError::Missing)?;
        let kind = CommandKind::from_name(&name)?;
        Ok(Request {
            kind,
            flags: Flags::parse(msg),
        })
    }
}
