// SPDX-License-Identifier: GPL-2.0

//! `/proc/rtpengine/N/calls/<call>/<stream>`: the packets of a recorded stream, one per
//! read(), oldest first (rtpengine 10.5's stream file). A read of an empty stream
//! sleeps, or fails with EAGAIN under `O_NONBLOCK`; once the stream is deleted reads
//! return 0. poll() reports readable for a packet or the end.

use super::adapter::{PollTable, Positioning, ProcFile, POLL_READABLE};
use crate::rtpengine_core::recording::{read_len, Popped};
use crate::tables::recording::Stream;
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};
use kernel::uaccess::UserSlice;

pub(crate) struct StreamFile;

#[vtable]
impl ProcFile for StreamFile {
    type Open = Arc<Stream>;
    const POSITIONING: Positioning = Positioning::Stream;

    fn open(data: usize) -> Result<impl PinInit<Arc<Stream>, Error>> {
        // SAFETY: the entry's data is the pointer `Arc::into_raw` gave for the stream
        // (tables/recording.rs `add_stream`), whose table reference lives until after
        // the entry is removed; procfs does not remove an entry while an open of it is
        // in progress, so the count cannot reach zero during this borrow.
        let stream: Arc<Stream> = unsafe { ArcBorrow::from_raw(data as *const Stream) }.into();
        // 10.5: an ended stream cannot be opened again.
        if stream.is_eof() {
            return Err(ETXTBSY);
        }
        Ok(stream)
    }

    fn read(
        stream: &Arc<Stream>,
        buf: UserSlice,
        len: usize,
        _pos: Option<&mut i64>,
        nonblock: bool,
    ) -> Result<usize> {
        loop {
            match stream.pop() {
                Popped::Packet(p) => {
                    // The rest of a packet longer than the buffer is lost (10.5).
                    let n = read_len(p.len(), len);
                    buf.writer().write_slice(&p[..n])?;
                    return Ok(n);
                }
                Popped::Eof => return Ok(0),
                Popped::Empty if nonblock => return Err(EAGAIN),
                Popped::Empty => stream.readers().wait(&|| stream.readable())?,
            }
        }
    }

    fn poll(stream: &Arc<Stream>, table: &PollTable<'_>) -> u32 {
        table.wait_on(stream.readers());
        if stream.readable() {
            POLL_READABLE
        } else {
            0
        }
    }
}
