//! Kernel forwarding through xt_RTPENGINE: the table's control file, the targets we
//! build from confirmed streams, and the counters we read back from `blist`.

pub mod iptables;
pub mod table;

pub use rtpengine_proto::kernel::{address, counters, target};

pub use table::{KernelError, Table};
