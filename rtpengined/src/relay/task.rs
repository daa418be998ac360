//! The task that owns one call's media: its sockets and its engine. Everything
//! that changes the call's media state reaches it as a message (signalling, the
//! kernel's counters) or a datagram, and is handled in the order it came; the
//! engine's outputs are executed here (send, kernel operations, log, statistics).

use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use rtpengine_core::abi::Stats;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

use super::batch::{RecvBatch, BATCH};
use super::board::{Board, Peer};
use super::engine::kernel::{KernelOp, Refusal};
use super::engine::{Datagram, DtlsFactory, Engine, Event, IceSettings, Output, Transmit};
use super::kernel_edge::{Answer, KernelEdge, Owner};
use super::pool::PooledSocket;
use super::tos;
use crate::call::{StreamConfig, StreamId};

pub enum Msg {
    Apply(Apply),
    /// The kernel's totals of this call's targets, listed at `read_at`.
    KernelCounters {
        read_at: Instant,
        counters: Vec<(StreamId, Stats)>,
    },
}

/// One signalling change of the call, in the order the call model gave it.
pub struct Apply {
    pub closes: Vec<StreamId>,
    pub opens: Vec<Opened>,
    pub configs: Vec<StreamConfig>,
    /// Restored streams take over the kernel targets left on their ports.
    pub restoring: bool,
    /// Completed once the change is in force (closed sockets are closed), for
    /// signalling that waits for it.
    pub done: Option<oneshot::Sender<()>>,
}

/// A socket the call model reserved for a new stream.
pub struct Opened {
    pub id: StreamId,
    pub socket: PooledSocket,
    pub board: Arc<Board>,
}

struct Sock {
    id: StreamId,
    fd: AsyncFd<PooledSocket>,
    board: Arc<Board>,
    /// What `board` shows of the peer (compared before locking it).
    peer: Peer,
    /// The socket's own address (recorded packets' destination).
    local: SocketAddr,
    /// Published since the SRTP indices were last put on `board`.
    srtp_due: bool,
}

pub struct CallTask {
    /// Identifies the call to the kernel edge.
    key: u64,
    engine: Engine,
    sockets: Vec<Sock>,
    kernel: Option<Arc<KernelEdge>>,
    /// Given to the kernel edge with each target, for its counters.
    tx: UnboundedSender<Msg>,
    /// What a batch sends, kept between batches for its allocation.
    sends: Vec<(usize, Transmit)>,
    /// Where relayed RTCP is reported, with the call's id.
    homer: Option<(crate::homer::sender::Homer, String)>,
    /// Where the packets of a recorded stream go, and the call's id for it.
    recorder: Option<(crate::recording::Recorder, String)>,
}

#[derive(PartialEq, Eq)]
enum Done {
    Going,
    Ended,
}

enum Wake {
    Msg(Option<Msg>),
    Batch(usize, usize),
    /// The engine's `poll_timeout` is due (DTLS retransmissions).
    Timer,
}

impl CallTask {
    pub fn new(
        key: u64,
        kernel: Option<Arc<KernelEdge>>,
        learning_delay: Duration,
        ice: IceSettings,
        dtls: Option<Arc<dyn DtlsFactory>>,
        tx: UnboundedSender<Msg>,
    ) -> CallTask {
        let mut engine = Engine::new(kernel.is_some(), learning_delay).with_ice(ice);
        if let Some(d) = dtls {
            engine = engine.with_dtls(d);
        }
        CallTask {
            key,
            engine,
            sockets: Vec::new(),
            kernel,
            tx,
            sends: Vec::with_capacity(BATCH),
            homer: None,
            recorder: None,
        }
    }

    /// Reports the RTCP the call relays to `homer` (`--homer`).
    pub fn with_homer(mut self, homer: crate::homer::sender::Homer, call_id: &str) -> CallTask {
        self.engine = std::mem::replace(&mut self.engine, Engine::new(false, Duration::ZERO))
            .with_rtcp_reports();
        self.homer = Some((homer, call_id.to_owned()));
        self
    }

    /// Hands the packets of recorded streams to `recorder`, as call `call_id`'s.
    pub fn with_recorder(
        mut self,
        recorder: crate::recording::Recorder,
        call_id: &str,
    ) -> CallTask {
        self.recorder = Some((recorder, call_id.to_owned()));
        self
    }

    pub async fn run(mut self, mut rx: UnboundedReceiver<Msg>) {
        // 128 KiB of buffers: made when a socket first has something to read,
        // not for calls that never see a packet (nor for every signalling-only
        // call of a busy daemon).
        let mut batch: Option<RecvBatch> = None;
        // Sockets are read in turn from here, so a busy one cannot starve the rest.
        let mut start = 0usize;
        let timer = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(timer);
        loop {
            let deadline = self.engine.poll_timeout();
            if let Some(d) = deadline {
                if timer.deadline().into_std() != d {
                    timer.as_mut().reset(d.into());
                }
            }
            let sockets = &self.sockets;
            let woke = poll_fn(|cx| {
                // Signalling first: packets queued meanwhile see its result.
                if let Poll::Ready(m) = rx.poll_recv(cx) {
                    return Poll::Ready(Wake::Msg(m));
                }
                if deadline.is_some() && timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Wake::Timer);
                }
                let n = sockets.len();
                for j in 0..n {
                    let idx = (start + j) % n;
                    loop {
                        let mut guard = match sockets[idx].fd.poll_read_ready(cx) {
                            Poll::Ready(Ok(g)) => g,
                            Poll::Ready(Err(err)) => {
                                debug!(%err, "socket not readable");
                                break;
                            }
                            Poll::Pending => break,
                        };
                        let batch = batch.get_or_insert_with(RecvBatch::new);
                        match guard.try_io(|s| batch.recv(s.get_ref().as_raw_fd())) {
                            Ok(Ok(got)) => {
                                if got < BATCH {
                                    // Drained: skip the extra recvmmsg that would only
                                    // return EAGAIN. Tokio keeps readiness that
                                    // arrived after the guard was taken.
                                    guard.clear_ready();
                                }
                                return Poll::Ready(Wake::Batch(idx, got));
                            }
                            // ICMP errors (peer port closed) surface here on Linux.
                            Ok(Err(err)) => debug!(%err, "receive error"),
                            // Readiness was stale; try_io cleared it: poll again.
                            Err(_would_block) => {}
                        }
                    }
                }
                Poll::Pending
            })
            .await;
            match woke {
                Wake::Msg(None) => return,
                Wake::Msg(Some(m)) => {
                    if self.message(m) == Done::Ended {
                        return;
                    }
                }
                Wake::Batch(idx, n) => {
                    start = idx + 1;
                    let at = self.sockets[idx].id;
                    // Signalling answered before these packets were sent must
                    // act on them: a change queued while this task was between
                    // looking at its messages and reading the socket comes first.
                    while let Ok(m) = rx.try_recv() {
                        if self.message(m) == Done::Ended {
                            return;
                        }
                    }
                    let batch = batch.as_mut().expect("made before the receive");
                    self.datagrams(at, batch, n);
                }
                Wake::Timer => {
                    self.engine.handle_timeout(Instant::now());
                    self.drain();
                    self.publish();
                }
            }
        }
    }

    /// Handles one message; `Ended` once the call has no streams left.
    fn message(&mut self, m: Msg) -> Done {
        match m {
            Msg::Apply(a) => {
                self.apply(a);
                if self.engine.is_empty() && self.sockets.is_empty() {
                    return Done::Ended;
                }
            }
            Msg::KernelCounters { read_at, counters } => {
                for (id, stats) in &counters {
                    self.engine.kernel_counters(read_at, *id, stats);
                }
                self.publish();
            }
        }
        Done::Going
    }

    /// The packets of `batch` that arrived on the socket of stream `at` (which
    /// signalling may have closed meanwhile: then they are dropped).
    fn datagrams(&mut self, at: StreamId, batch: &mut RecvBatch, n: usize) {
        if !self.sockets.iter().any(|s| s.id == at) {
            return;
        }
        let now = Instant::now();
        let mut sends = std::mem::take(&mut self.sends);
        for i in 0..n {
            let d = batch.get_mut(i);
            let Some(src) = d.source else { continue };
            if d.truncated {
                self.engine.truncated(at);
                continue;
            }
            if let Some(t) = self.engine.datagram(now, at, src, d.buf, d.len) {
                sends.push((i, t));
            }
        }
        self.drain();
        // Statistics first: whoever sees a relayed packet arrive finds it counted.
        self.publish();
        let mut failed = false;
        for (i, t) in sends.drain(..) {
            let Some(via) = self.sockets.iter().find(|s| s.id == t.via) else {
                continue;
            };
            let d = batch.get_mut(i);
            if let Err(err) = via.fd.get_ref().send_to(&d.buf[..t.len], t.to) {
                // A full socket buffer drops the packet (as 10.5 does): waiting for
                // room would stop this call from reading its sockets meanwhile.
                debug!(%err, to = %t.to, "send failed");
                self.engine.send_failed(t.via);
                failed = true;
            }
        }
        self.sends = sends;
        if failed {
            self.publish();
        }
    }

    fn apply(&mut self, a: Apply) {
        let now = Instant::now();
        for id in &a.closes {
            self.engine.close(*id);
        }
        // What closing sends (DTLS close_notify) leaves before the sockets go.
        self.drain();
        // Dropping a socket closes it: the port is free once `done` fires.
        self.sockets.retain(|s| !a.closes.contains(&s.id));
        for o in a.opens {
            let local = o
                .socket
                .local_addr()
                .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
            match register(o.socket) {
                Ok(fd) => self.sockets.push(Sock {
                    id: o.id,
                    local,
                    fd,
                    board: o.board,
                    peer: Peer::default(),
                    srtp_due: false,
                }),
                Err(err) => warn!(%err, "cannot start relaying"),
            }
        }
        let mut configured = Vec::with_capacity(a.configs.len());
        for cfg in a.configs {
            let Some(sock) = self.sockets.iter().find(|s| s.id == cfg.id) else {
                continue;
            };
            if let Some(t) = cfg.tos {
                tos::set(sock.fd.get_ref(), cfg.local.is_ipv4(), t);
            }
            configured.push((cfg.id, cfg.local));
            self.engine.configure(now, cfg);
        }
        // Restored streams take their targets back only once every stream of the
        // call is configured: configuring a sink takes back the targets forwarding
        // to it, which would remove a target adopted before.
        if let (true, Some(k)) = (a.restoring, self.kernel.clone()) {
            for (id, local) in configured {
                if let Some(source) = k.adopt(local, self.owner(id)) {
                    self.engine.adopt(now, id, source);
                }
            }
        }
        self.drain();
        self.publish();
        if let Some(done) = a.done {
            let _ = done.send(());
        }
    }

    fn owner(&self, stream: StreamId) -> Owner {
        Owner {
            call: self.key,
            stream,
            tx: self.tx.clone(),
        }
    }

    /// Executes the engine's kernel operations (answering each at once) and logs
    /// its events.
    fn drain(&mut self) {
        while let Some(out) = self.engine.poll_output() {
            match out {
                Output::Kernel(op) => {
                    let Some(k) = self.kernel.clone() else {
                        continue;
                    };
                    let stream = match &op {
                        KernelOp::Install { stream, .. } | KernelOp::Remove { stream, .. } => {
                            *stream
                        }
                    };
                    match (k.execute(&op, self.owner(stream)), &op) {
                        (Answer::Installed { ok }, KernelOp::Install { ticket, .. }) => self
                            .engine
                            .kernel_installed(Instant::now(), stream, *ticket, ok),
                        (
                            Answer::Removed(Some(idx)),
                            KernelOp::Remove {
                                resume: Some(r), ..
                            },
                        ) => self.engine.kernel_removed(*r, &idx),
                        _ => {}
                    }
                }
                Output::Event(Event::Rtcp {
                    stream,
                    source,
                    packet,
                }) => {
                    if let (Some((homer, call_id)), Some(local)) =
                        (&self.homer, self.local_of_stream(stream))
                    {
                        let time = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap_or_default();
                        homer.rtcp(call_id, source, local, time, &packet);
                    }
                }
                Output::Event(e) => log_event(&e, self.local_of(&e)),
                Output::Send(d) => self.send(&d),
                Output::Record { stream, src, data } => {
                    let Some((r, call_id)) = &self.recorder else {
                        continue;
                    };
                    if let Some(local) = self
                        .sockets
                        .iter()
                        .find(|s| s.id == stream)
                        .map(|s| s.local)
                    {
                        r.packet(call_id, stream, src, local, data);
                    }
                }
            }
        }
    }

    /// Sends a datagram the engine made (a DTLS record, an ICE check). A
    /// failure is not a stream error: 10.5 counts only media it relays, and a
    /// check towards an unreachable candidate fails by design.
    fn send(&mut self, d: &Datagram) {
        let Some(via) = self.sockets.iter().find(|s| s.id == d.via) else {
            return;
        };
        if let Err(err) = via.fd.get_ref().send_to(&d.data, d.to) {
            debug!(%err, to = %d.to, "send failed");
        }
    }

    fn local_of(&self, e: &Event) -> Option<SocketAddr> {
        let id = match e {
            Event::Committed { stream, .. }
            | Event::PeerChanged { stream, .. }
            | Event::KernelRefused { stream, .. }
            | Event::SrtpRefused { stream, .. }
            | Event::IceSelected { stream, .. }
            | Event::IceFailed { stream }
            | Event::IceConsentLost { stream, .. }
            | Event::DtlsConnected { stream, .. }
            | Event::DtlsFailed { stream, .. }
            | Event::Rtcp { stream, .. } => *stream,
        };
        self.local_of_stream(id)
    }

    fn local_of_stream(&self, id: StreamId) -> Option<SocketAddr> {
        self.sockets
            .iter()
            .find(|s| s.id == id)
            .and_then(|s| s.fd.get_ref().local_addr().ok())
    }

    /// Publishes what changed for signalling to read.
    fn publish(&mut self) {
        let sockets = &mut self.sockets;
        self.engine.publish(|id, stats| {
            let Some(s) = sockets.iter_mut().find(|s| s.id == id) else {
                return;
            };
            s.board.store_counters(&stats);
            s.srtp_due = true;
            let peer = Peer::of(&stats);
            if peer != s.peer {
                s.peer = peer;
                s.board.store_peer(peer);
            }
        });
        for s in self.sockets.iter_mut().filter(|s| s.srtp_due) {
            s.srtp_due = false;
            if let Some(state) = self.engine.srtp_state(s.id) {
                s.board.store_srtp(state);
            }
        }
    }
}

fn register(socket: PooledSocket) -> std::io::Result<AsyncFd<PooledSocket>> {
    socket.set_nonblocking(true)?;
    // SAFETY: the AsyncFd takes ownership of `socket`, whose fd stays open and
    // the same until the AsyncFd (and the socket with it) is dropped.
    unsafe { AsyncFd::register(socket) }.map_err(std::io::Error::from)
}

fn log_event(e: &Event, local: Option<SocketAddr>) {
    match e {
        Event::Committed { peer, .. } => {
            info!(?local, ?peer, "endpoint learning committed")
        }
        Event::PeerChanged { peer, source, .. } => {
            debug!(?local, ?peer, %source, "peer address changed")
        }
        Event::KernelRefused { why, .. } => match why {
            Refusal::SlotConflict(slot) => info!(
                ?local,
                slot, "SSRC slots differ between decryption and encryption; relaying in userspace"
            ),
            Refusal::Unsupported => debug!(
                ?local,
                "the kernel cannot forward this stream; relaying in userspace"
            ),
            // The kernel edge logged the error.
            Refusal::Kernel => {}
        },
        Event::SrtpRefused { error, .. } => warn!(?local, ?error, "SRTP parameters refused"),
        Event::IceSelected {
            peer, nominated, ..
        } => info!(?local, %peer, nominated, "ICE: media goes to the checked pair"),
        Event::IceFailed { .. } => warn!(?local, "ICE: every candidate pair failed"),
        Event::IceConsentLost { peer, .. } => {
            warn!(?local, %peer, "ICE: the peer stopped granting consent; media to it stops")
        }
        Event::DtlsConnected { suite, .. } => info!(?local, suite, "DTLS-SRTP handshake done"),
        Event::DtlsFailed { reason, .. } => warn!(?local, reason, "DTLS-SRTP failed"),
        Event::Rtcp { .. } => {}
    }
}
