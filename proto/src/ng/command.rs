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
    StartForwarding,
    StopForwarding,
    BlockDtmf,
    UnblockDtmf,
    BlockMedia,
    UnblockMedia,
    SilenceMedia,
    UnsilenceMedia,
    PlayMedia,
    StopMedia,
    PlayDtmf,
    Statistics,
    Publish,
    SubscribeRequest,
    SubscribeAnswer,
    Unsubscribe,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommandError {
    #[error("Dictionary contains no key \"command\"")]
    Missing,
    /// Also the answer to commands newer than 10.5 (`pause recording`,
    /// `connect`), as 10.5 gives it.
    #[error("Unrecognized command")]
    Unknown(String),
}

impl CommandKind {
    /// Every command, in rtpengine 10.5's order (its `statistics` lists them
    /// in this order, by `name` and `short_name`).
    pub const ALL: [CommandKind; 24] = [
        CommandKind::Ping,
        CommandKind::Offer,
        CommandKind::Answer,
        CommandKind::Delete,
        CommandKind::Query,
        CommandKind::List,
        CommandKind::StartRecording,
        CommandKind::StopRecording,
        CommandKind::StartForwarding,
        CommandKind::StopForwarding,
        CommandKind::BlockDtmf,
        CommandKind::UnblockDtmf,
        CommandKind::BlockMedia,
        CommandKind::UnblockMedia,
        CommandKind::PlayMedia,
        CommandKind::StopMedia,
        CommandKind::PlayDtmf,
        CommandKind::Statistics,
        CommandKind::SilenceMedia,
        CommandKind::UnsilenceMedia,
        CommandKind::Publish,
        CommandKind::SubscribeRequest,
        CommandKind::SubscribeAnswer,
        CommandKind::Unsubscribe,
    ];

    pub fn from_name(name: &str) -> Result<CommandKind, CommandError> {
        CommandKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| CommandError::Unknown(name.to_owned()))
    }

    /// Position in `ALL`.
    pub fn index(self) -> usize {
        CommandKind::ALL
            .iter()
            .position(|k| *k == self)
            .expect("every kind is in ALL")
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
            CommandKind::StartForwarding => "start forwarding",
            CommandKind::StopForwarding => "stop forwarding",
            CommandKind::BlockDtmf => "block DTMF",
            CommandKind::UnblockDtmf => "unblock DTMF",
            CommandKind::BlockMedia => "block media",
            CommandKind::UnblockMedia => "unblock media",
            CommandKind::PlayMedia => "play media",
            CommandKind::StopMedia => "stop media",
            CommandKind::PlayDtmf => "play DTMF",
            CommandKind::Statistics => "statistics",
            CommandKind::SilenceMedia => "silence media",
            CommandKind::UnsilenceMedia => "unsilence media",
            CommandKind::Publish => "publish",
            CommandKind::SubscribeRequest => "subscribe request",
            CommandKind::SubscribeAnswer => "subscribe answer",
            CommandKind::Unsubscribe => "unsubscribe",
        }
    }

    /// The short name 10.5's statistics build its per-proxy keys from
    /// (lower-cased: `offercount`, `blkdtmfduration`, ...).
    pub fn short_name(self) -> &'static str {
        match self {
            CommandKind::Ping => "Ping",
            CommandKind::Offer => "Offer",
            CommandKind::Answer => "Answer",
            CommandKind::Delete => "Delete",
            CommandKind::Query => "Query",
            CommandKind::List => "List",
            CommandKind::StartRecording => "StartRec",
            CommandKind::StopRecording => "StopRec",
            CommandKind::StartForwarding => "StartFwd",
            CommandKind::StopForwarding => "StopFwd",
            CommandKind::BlockDtmf => "BlkDTMF",
            CommandKind::UnblockDtmf => "UnblkDTMF",
            CommandKind::BlockMedia => "BlkMedia",
            CommandKind::UnblockMedia => "UnblkMedia",
            CommandKind::PlayMedia => "PlayMedia",
            CommandKind::StopMedia => "StopMedia",
            CommandKind::PlayDtmf => "PlayDTMF",
            CommandKind::Statistics => "Stats",
            CommandKind::SilenceMedia => "SlnMedia",
            CommandKind::UnsilenceMedia => "UnslnMedia",
            CommandKind::Publish => "Pub",
            CommandKind::SubscribeRequest => "SubReq",
            CommandKind::SubscribeAnswer => "SubAns",
            CommandKind::Unsubscribe => "Unsub",
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
        // Only a string is a command (10.5 reads an integer as no command).
        let name = match msg.get("command") {
            Some(Value::Bytes(b)) => String::from_utf8_lossy(b),
            _ => return Err(CommandError::Missing),
        };
        let kind = CommandKind::from_name(&name)?;
        Ok(Request {
            kind,
            flags: Flags::parse(msg),
        })
    }
}
